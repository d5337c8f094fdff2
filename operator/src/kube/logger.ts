/** Structured fields attached to one log line. */
export type LogFields = Record<string, unknown>;

/** A JSON-lines logger: one object per line with time, level, msg and fields. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  with(fields: LogFields): Logger;
}

const levels = { debug: 10, info: 20, error: 40 } as const;
type Level = keyof typeof levels;

/** Creates a JSON logger writing to `write` (stderr by default) at or above `minLevel`. */
export function createLogger(
  minLevel: Level = "info",
  base: LogFields = {},
  write: (line: string) => void = (line) => process.stderr.write(line),
): Logger {
  const emit = (level: Level, msg: string, fields?: LogFields) => {
    if (levels[level] < levels[minLevel]) return;
    const line = { ts: new Date().toISOString(), level, msg, ...base, ...fields };
    write(`${JSON.stringify(line)}\n`);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    error: (m, f) => emit("error", m, f),
    with: (fields) => createLogger(minLevel, { ...base, ...fields }, write),
  };
}
