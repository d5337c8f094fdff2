// Process entry for `churn-runtime serve`: start the server, stop it gracefully on SIGTERM/SIGINT.
import { DigestMismatchError } from "./artifact/artifact.js";
import type { RuntimeConfig } from "./config.js";
import { FeatureSourceError } from "./data/feature-source.js";
import { runUntilSignal } from "./http/run-until-signal.js";
import { startServer } from "./http/server.js";
import { createLogger } from "./logger.js";

/** Runs the server until a termination signal; resolves with the process exit code. */
export async function main(config: RuntimeConfig): Promise<number> {
  const logger = createLogger(config.logLevel);
  let running: Awaited<ReturnType<typeof startServer>>;
  try {
    running = await startServer(config, logger);
  } catch (err) {
    if (err instanceof DigestMismatchError || err instanceof FeatureSourceError) {
      logger.error(err.message);
      return 2;
    }
    logger.error("cannot start", { error: err instanceof Error ? err.message : String(err) });
    return 1;
  }
  return runUntilSignal(running, logger);
}
