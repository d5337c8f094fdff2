import { spawn } from "node:child_process";
import { appendFileSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import type { BuildProgress } from "./build-progress.js";

/** Where and how a go command runs. */
export interface GoOptions {
  cwd: string;
  /** Every command and its stderr are appended here; failures quote its tail. */
  logFile: string;
  /** Settings of the caller's build (GOFLAGS, CGO_ENABLED), over the process's own. */
  env?: NodeJS.ProcessEnv;
  /** Called with each stderr line as it arrives (progress: `go: downloading`, `-v` packages). */
  onLine?: (line: string) => void;
}

/**
 * Runs a go command, appending its output to the log; resolves with its stdout and rejects with
 * the log's tail. Never fetches another toolchain (only the module proxy is reachable).
 */
export function go(args: string[], opts: GoOptions): Promise<string> {
  appendFileSync(opts.logFile, `\n$ go ${args.join(" ")}\n`);
  const env = { ...process.env, GOTOOLCHAIN: "local", ...opts.env };
  return new Promise((resolve, reject) => {
    const child = spawn("go", args, { cwd: opts.cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    createInterface({ input: child.stderr }).on("line", (line) => {
      appendFileSync(opts.logFile, `${line}\n`);
      opts.onLine?.(line);
    });
    child.on("error", (err) =>
      reject(new Error(`cannot run go (is Go >= 1.26 on PATH?): ${err.message}`)),
    );
    child.on("close", (code) => {
      if (code === 0) return resolve(stdout);
      const tail = readFileSync(opts.logFile, "utf8").split("\n").slice(-25).join("\n");
      reject(new Error(`go ${args.join(" ")} exited with ${code}; see ${opts.logFile}:\n${tail}`));
    });
  });
}

/** The go.mod text of `module@version`, downloaded through the module proxy. */
export async function moduleGoMod(moduleAtVersion: string, opts: GoOptions): Promise<string> {
  const out = await go(["mod", "download", "-json", moduleAtVersion], opts);
  const info = JSON.parse(out) as { GoMod?: string; Error?: string };
  if (info.Error || !info.GoMod)
    throw new Error(`go mod download ${moduleAtVersion}: ${info.Error}`);
  return readFileSync(info.GoMod, "utf8");
}

/** A go command that fetches modules, as a progress step counting each `go: downloading`. */
export function goFetch(
  step: string,
  args: string[],
  opts: GoOptions,
  progress: BuildProgress,
): Promise<string> {
  progress.step(step, "modules");
  return go(args, {
    ...opts,
    onLine: (line) => {
      if (line.startsWith("go: downloading ")) progress.advance();
    },
  });
}

/**
 * `go build -v` of `targets` into `output` as two progress steps. "compile" counts the
 * library packages `go list` says are not in the build cache yet, each once as `-v` reports
 * it; "link" follows (the main packages and the linker, the memory peak), with its time.
 */
export async function goBuild(
  flags: string[],
  targets: string[],
  output: string,
  opts: GoOptions,
  progress: BuildProgress,
): Promise<void> {
  progress.step("compile", "packages");
  const listed = await go(
    [
      "list",
      "-deps",
      "-f",
      '{{if and .Stale (ne .Name "main")}}{{.ImportPath}}{{end}}',
      ...flags,
      ...targets,
    ],
    opts,
  );
  const pending = new Set(listed.split("\n").filter(Boolean));
  progress.setTotal(pending.size);
  const link = () => progress.step("link", "programs");
  if (pending.size === 0) link();
  await go(["build", "-v", ...flags, "-o", output, ...targets], {
    ...opts,
    onLine: (line) => {
      if (!pending.delete(line)) return;
      progress.advance();
      if (pending.size === 0) link();
    },
  });
}
