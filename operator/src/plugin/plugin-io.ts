/** What the commands touch of the process: output, terminal, environment, clock, Ctrl-C. */
export interface PluginIo {
  out(text: string): void;
  err(text: string): void;
  /** Whether stdout is a terminal (colours, redraw in place). */
  outIsTTY: boolean;
  env: NodeJS.ProcessEnv;
  now(): Date;
  /** Aborted on Ctrl-C (SIGINT) or SIGTERM. */
  signal: AbortSignal;
}
