// The runtime's logger: the repository's one log line shape (common/json-log.ts,
// docs/logging.md), component "churn-runtime" (or "churn-router" in route mode), on stderr.
import { createJsonLogger, type JsonLogger, type LogLevel } from "../../common/json-log.js";

export { LOG_LEVELS, type LogLevel } from "../../common/json-log.js";

/** A structured logger. */
export type Logger = JsonLogger;

/** A logger writing JSON lines at or above `level` to `write` (stderr by default). */
export function createLogger(
  level: LogLevel = "info",
  write?: (line: string) => void,
  fields: Record<string, unknown> = {},
  component = "churn-runtime",
): Logger {
  return createJsonLogger({ component, level, write, fields });
}
