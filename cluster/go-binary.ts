import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { withFileLock } from "./file-lock.js";
import { go, moduleGoMod } from "./go-command.js";
import { cacheRoot } from "./versions.js";

/** A Go program built with `go install <module>/<pkg>@<version>` and cached per version. */
export interface GoBinary {
  /** Binary name, also the cache folder: `<cache>/<name>/<version>/bin/<name>`. */
  name: string;
  module: string;
  /** Package path inside the module, e.g. `cmd/helm`. */
  pkg: string;
  version: string;
  /** Link flags, given the module's go.mod (e.g. versions the program reports). */
  ldflags?: (goMod: string) => string;
}

/** Directory holding the cached binary of this pin (outside the repository). */
export function goBinaryDir(b: GoBinary): string {
  return join(cacheRoot(), b.name, b.version, "bin");
}

/**
 * Path of the binary, built from the Go module proxy on first use and cached per version:
 * changing the pin is the only thing that rebuilds it. A file lock makes concurrent callers
 * (parallel test files, another run) wait for one build.
 */
export async function ensureGoBinary(b: GoBinary): Promise<string> {
  const binDir = goBinaryDir(b);
  const path = join(binDir, b.name);
  const marker = JSON.stringify({ module: b.module, version: b.version });
  const complete = () =>
    existsSync(path) &&
    existsSync(join(binDir, ".complete")) &&
    readFileSync(join(binDir, ".complete"), "utf8") === marker;
  if (complete()) return path;
  const top = join(cacheRoot(), b.name, b.version);
  await withFileLock(top, ".build-lock", async () => {
    if (complete()) return;
    mkdirSync(binDir, { recursive: true });
    const logFile = join(top, "build.log");
    writeFileSync(logFile, `building ${b.name} ${b.version}\n`);
    const log = (msg: string) => process.stderr.write(`[${b.name}] ${msg}\n`);
    log(`building ${b.module}/${b.pkg}@${b.version} from the Go module proxy (log: ${logFile})`);
    const started = Date.now();
    // Static binaries, installed straight into the cache folder.
    const env = { CGO_ENABLED: "0", GOBIN: binDir };
    const args = ["install"];
    if (b.ldflags) {
      args.push(
        "-ldflags",
        b.ldflags(await moduleGoMod(`${b.module}@${b.version}`, top, logFile, env)),
      );
    }
    await go([...args, `${b.module}/${b.pkg}@${b.version}`], top, logFile, env);
    writeFileSync(join(binDir, ".complete"), marker);
    log(`built in ${Math.round((Date.now() - started) / 1000)} s`);
  });
  return path;
}
