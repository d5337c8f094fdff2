import { spawn } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { withFileLock } from "../cluster/file-lock.js";
import { cacheRoot } from "../cluster/versions.js";

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

/** Runs go with output appended to `logFile`; rejects with the log's tail. */
function go(args: string[], cwd: string, logFile: string, gobin: string): Promise<string> {
  appendFileSync(logFile, `\n$ go ${args.join(" ")}\n`);
  // Never fetch another toolchain (only the module proxy is reachable); static binaries.
  const env = { ...process.env, GOTOOLCHAIN: "local", CGO_ENABLED: "0", GOBIN: gobin };
  return new Promise((resolve, reject) => {
    const child = spawn("go", args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => appendFileSync(logFile, d));
    child.on("error", (err) => reject(new Error(`cannot run go: ${err.message}`)));
    child.on("close", (code) => {
      if (code === 0) return resolve(stdout);
      const tail = readFileSync(logFile, "utf8").split("\n").slice(-25).join("\n");
      reject(new Error(`go ${args.join(" ")} exited with ${code}; see ${logFile}:\n${tail}`));
    });
  });
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
    const args = ["install"];
    if (b.ldflags) {
      const info = JSON.parse(
        await go(["mod", "download", "-json", `${b.module}@${b.version}`], top, logFile, binDir),
      ) as { GoMod?: string; Error?: string };
      if (info.Error || !info.GoMod) throw new Error(`go mod download ${b.module}: ${info.Error}`);
      args.push("-ldflags", b.ldflags(readFileSync(info.GoMod, "utf8")));
    }
    await go([...args, `${b.module}/${b.pkg}@${b.version}`], top, logFile, binDir);
    writeFileSync(join(binDir, ".complete"), marker);
    log(`built in ${Math.round((Date.now() - started) / 1000)} s`);
  });
  return path;
}
