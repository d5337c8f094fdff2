import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { BuildProgress, formatDuration } from "./build-progress.js";
import { withFileLock } from "./file-lock.js";

/** A build is complete when its marker names exactly what was built (version, programs). */
export function isComplete(binDir: string, marker: object): boolean {
  const file = join(binDir, ".complete");
  return existsSync(file) && readFileSync(file, "utf8") === JSON.stringify(marker);
}

/** What a build's steps work with: a generated module, the output dir, the log and progress. */
export interface BuildContext {
  /** The generated Go module (derived from the pin alone, so it lives in the cache). */
  src: string;
  /** Scratch output, renamed to the binary directory once the build completes. */
  out: string;
  logFile: string;
  progress: BuildProgress;
}

/** How a build introduces itself: `[prefix] label step i/steps ...`. */
export interface BuildLabel {
  prefix: string;
  label: string;
  steps: number;
}

/**
 * Builds once per `marker` into `binDir`: under a file lock (parallel callers wait for one
 * build), in a scratch `bin.tmp` renamed into place when complete, so a crash mid-build never
 * leaves a directory that looks finished. `build` reports its steps on the context's progress.
 */
export async function buildOnce(
  binDir: string,
  marker: object,
  { prefix, label, steps }: BuildLabel,
  build: (ctx: BuildContext) => Promise<void>,
): Promise<void> {
  if (isComplete(binDir, marker)) return;
  const top = dirname(binDir);
  await withFileLock(top, ".build-lock", async () => {
    if (isComplete(binDir, marker)) return;
    const log = (msg: string) => process.stderr.write(`[${prefix}] ${msg}\n`);
    const ctx = {
      src: join(top, "src"),
      out: join(top, "bin.tmp"),
      logFile: join(top, "build.log"),
      progress: new BuildProgress(prefix, label, steps),
    };
    mkdirSync(ctx.src, { recursive: true });
    writeFileSync(ctx.logFile, `building ${label}\n`);
    log(`building ${label} from the Go module proxy, once (log: ${ctx.logFile})`);
    const started = Date.now();
    rmSync(ctx.out, { recursive: true, force: true });
    mkdirSync(ctx.out);
    try {
      await build(ctx);
    } finally {
      ctx.progress.end();
    }
    writeFileSync(join(ctx.out, ".complete"), JSON.stringify(marker));
    rmSync(binDir, { recursive: true, force: true });
    renameSync(ctx.out, binDir);
    log(`built ${label} in ${formatDuration(Date.now() - started)}`);
  });
}
