import type { Logger } from "../logger.js";

/**
 * Waits for SIGTERM or SIGINT, then closes `running` gracefully; resolves with the process
 * exit code (0 after a clean close, 1 if closing failed). Shared by `serve` and `route`.
 */
export function runUntilSignal(
  running: { close(): Promise<void> },
  logger: Logger,
): Promise<number> {
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      logger.info("shutting down", { signal });
      running.close().then(
        () => resolve(0),
        (err: unknown) => {
          logger.error("shutdown failed", { error: String(err) });
          resolve(1);
        },
      );
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
}
