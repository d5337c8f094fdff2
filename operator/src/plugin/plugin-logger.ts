import type { LogFields, Logger } from "../kube/logger.js";

/**
 * The Logger the operator's kube layer expects, printing for a person: what went wrong in one
 * line on stderr (e.g. a watch that is restarting and why); debug lines are dropped.
 */
export function pluginLogger(write: (line: string) => void): Logger {
  const line = (msg: string, fields: LogFields = {}) => {
    const why = fields.reason ?? fields.error;
    const retry = typeof fields.delayMs === "number" ? `; retrying in ${fields.delayMs} ms` : "";
    write(`kubectl churn: ${msg}${why === undefined ? "" : `: ${String(why)}`}${retry}\n`);
  };
  const logger: Logger = {
    debug: () => {},
    info: line,
    warn: line,
    error: line,
    enabled: (level) => level !== "debug" && level !== "silent",
    with: () => logger,
  };
  return logger;
}
