// The operator's logger: the repository's one log line shape (common/json-log.ts,
// docs/logging.md) with component "churn-operator", on stderr.
import {
  createJsonLogger,
  type JsonLogger,
  type LogFields,
  type LogLevel,
} from "../../../common/json-log.js";

export type { LogFields };

/** A JSON-lines logger: one object per line with time, level, msg, component and fields. */
export type Logger = JsonLogger;

/** Creates the operator's logger at or above `minLevel`, with `fields` on every line. */
export function createLogger(
  minLevel: LogLevel = "info",
  fields: LogFields = {},
  write?: (line: string) => void,
): Logger {
  return createJsonLogger({ component: "churn-operator", level: minLevel, fields, write });
}
