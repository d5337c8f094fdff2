import { spawn } from "node:child_process";
import { appendFileSync, readFileSync } from "node:fs";

/**
 * Runs a go command in `cwd`, appending its output to `logFile`; resolves with its stdout and
 * rejects with the log's tail. Never fetches another toolchain (only the module proxy is
 * reachable); `env` adds settings of the caller's build (GOFLAGS, GOBIN, CGO_ENABLED).
 */
export function go(
  args: string[],
  cwd: string,
  logFile: string,
  env: NodeJS.ProcessEnv = {},
): Promise<string> {
  appendFileSync(logFile, `\n$ go ${args.join(" ")}\n`);
  const fullEnv = { ...process.env, GOTOOLCHAIN: "local", ...env };
  return new Promise((resolve, reject) => {
    const child = spawn("go", args, { cwd, env: fullEnv, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => appendFileSync(logFile, d));
    child.on("error", (err) =>
      reject(new Error(`cannot run go (is Go >= 1.26 on PATH?): ${err.message}`)),
    );
    child.on("close", (code) => {
      if (code === 0) return resolve(stdout);
      const tail = readFileSync(logFile, "utf8").split("\n").slice(-25).join("\n");
      reject(new Error(`go ${args.join(" ")} exited with ${code}; see ${logFile}:\n${tail}`));
    });
  });
}

/** The go.mod text of `module@version`, downloaded through the module proxy. */
export async function moduleGoMod(
  moduleAtVersion: string,
  cwd: string,
  logFile: string,
  env: NodeJS.ProcessEnv = {},
): Promise<string> {
  const out = await go(["mod", "download", "-json", moduleAtVersion], cwd, logFile, env);
  const info = JSON.parse(out) as { GoMod?: string; Error?: string };
  if (info.Error || !info.GoMod)
    throw new Error(`go mod download ${moduleAtVersion}: ${info.Error}`);
  return readFileSync(info.GoMod, "utf8");
}
