// The one log line shape of every program in this repository (operator, runtime, router), so
// one pipeline indexes them all. docs/logging.md describes the keys; this is their one home.
//
//   {"time":"2026-11-30T14:45:12.345Z","level":"info","msg":"controllers started",
//    "component":"churn-operator", ...fields}
//
// One JSON object per line, on stderr: stdout stays free for a program's own output (the
// trainer's summary line, a CLI's answer), and Kubernetes collects both streams anyway.

/** Levels in increasing severity; "silent" logs nothing. */
export const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
/** A log level. */
export type LogLevel = (typeof LOG_LEVELS)[number];
/** Structured fields of one line. */
export type LogFields = Record<string, unknown>;

/** A structured logger writing one JSON object per line. */
export interface JsonLogger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** Whether a level would be written. */
  enabled(level: LogLevel): boolean;
  /** A logger that adds `fields` to every line. */
  with(fields: LogFields): JsonLogger;
}

/** Options of {@link createJsonLogger}. */
export interface JsonLoggerOptions {
  /** The program: churn-operator, churn-runtime, churn-router. */
  component: string;
  /** Lowest level written (default info). */
  level?: LogLevel;
  /** Where lines go (default stderr). */
  write?: (line: string) => void;
  /** Fields on every line. */
  fields?: LogFields;
}

/** One log line: time, level, msg, then the component and the fields (they cannot override the first three). */
export function formatLogLine(level: LogLevel, msg: string, fields: LogFields): string {
  return `${JSON.stringify({ ...fields, time: new Date().toISOString(), level, msg }, orderFirst)}\n`;
}

/** Puts time, level and msg first in the object (JSON.stringify keeps insertion order). */
function orderFirst(this: unknown, key: string, value: unknown): unknown {
  if (key !== "" || value === null || typeof value !== "object" || Array.isArray(value))
    return value;
  const { time, level, msg, ...rest } = value as Record<string, unknown>;
  return { time, level, msg, ...rest };
}

/** A JSON-lines logger (see the module comment for the shape). */
export function createJsonLogger(opts: JsonLoggerOptions): JsonLogger {
  const min = LOG_LEVELS.indexOf(opts.level ?? "info");
  const write = opts.write ?? ((line: string) => process.stderr.write(line));
  const base = { component: opts.component, ...opts.fields };
  const enabled = (l: LogLevel) => l !== "silent" && LOG_LEVELS.indexOf(l) >= min;
  const emit = (l: LogLevel, msg: string, fields?: LogFields) => {
    if (enabled(l)) write(formatLogLine(l, msg, { ...base, ...fields }));
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    enabled,
    with: (fields) => createJsonLogger({ ...opts, fields: { ...opts.fields, ...fields } }),
  };
}
