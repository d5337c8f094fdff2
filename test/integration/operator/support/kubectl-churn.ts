// `kubectl churn` as a user runs it: the real kubectl (the local cluster's, or kubectl on PATH)
// finding the package's `kubectl-churn` bin on PATH, through a symlink as `npm i -g` installs
// it, running the compiled plugin in dist/.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join, relative, sep } from "node:path";
import { cachedBinaries } from "../../../../cluster/build-binaries.js";
import { repoRoot } from "./install.js";

/** What one `kubectl churn` run printed and how it exited. */
export interface PluginRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** A long-running `kubectl churn` (status --watch): its output so far, and Ctrl-C. */
export interface RunningPlugin {
  stdout(): string;
  stderr(): string;
  /** Sends SIGINT, as Ctrl-C does; resolves to the exit code. */
  interrupt(): Promise<number | null>;
}

/** A PATH directory holding `kubectl-churn`, and ways to run kubectl with it. */
export interface KubectlChurn {
  run(args: string[]): Promise<PluginRun>;
  start(args: string[]): RunningPlugin;
  /** Kills what is still running and removes the directory. */
  remove(): void;
}

/**
 * Installs the plugin into a temporary PATH directory for `kubeconfig`. Refuses a dist/ older
 * than operator/src, which would test yesterday's plugin (`npm run build` refreshes it).
 */
export function installKubectlChurn(kubeconfig: string): KubectlChurn {
  assertBuilt(join(repoRoot, "operator", "src"));
  const dir = mkdtempSync(join(tmpdir(), "kubectl-plugins-"));
  symlinkSync(join(repoRoot, "bin", "kubectl-churn.js"), join(dir, "kubectl-churn"));
  const kubectl = cachedBinaries()?.kubectl ?? "kubectl";
  const env = {
    ...process.env,
    KUBECONFIG: kubeconfig,
    PATH: `${dir}${delimiter}${process.env.PATH ?? ""}`,
  };
  const children = new Set<ChildProcess>();
  return {
    // Asynchronous: the test's own load keeps running while the plugin waits for the operator.
    run: (args) =>
      new Promise((resolve, reject) => {
        execFile(kubectl, ["churn", ...args], { env, encoding: "utf8" }, (err, stdout, stderr) => {
          const code = err ? (err as { code?: unknown }).code : 0;
          if (typeof code !== "number") reject(err);
          else resolve({ code, stdout, stderr });
        });
      }),
    start: (args) => {
      // kubectl execs the plugin in its own place, so the signal reaches the plugin itself.
      const child = spawn(kubectl, ["churn", ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
      children.add(child);
      let out = "";
      let err = "";
      child.stdout.setEncoding("utf8").on("data", (s: string) => {
        out += s;
      });
      child.stderr.setEncoding("utf8").on("data", (s: string) => {
        err += s;
      });
      const exited = new Promise<number | null>((resolve) =>
        child.once("exit", (code) => {
          children.delete(child);
          resolve(code);
        }),
      );
      return {
        stdout: () => out,
        stderr: () => err,
        interrupt: () => {
          child.kill("SIGINT");
          return exited;
        },
      };
    },
    remove: () => {
      for (const child of children) child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function assertBuilt(srcDir: string): void {
  for (const entry of readdirSync(srcDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".ts") || entry.name.endsWith(".test.ts")) continue;
    const src = join(entry.parentPath, entry.name);
    // Test support is not built (tsconfig.build.json excludes it), like the tests themselves.
    if (src.split(sep).includes("test-support")) continue;
    const built = join(repoRoot, "dist", relative(repoRoot, src)).replace(/\.ts$/, ".js");
    let builtAt: number;
    try {
      builtAt = statSync(built).mtimeMs;
    } catch {
      throw new Error(`${relative(repoRoot, built)} is missing: run \`npm run build\``);
    }
    if (builtAt < statSync(src).mtimeMs)
      throw new Error(
        `${relative(repoRoot, built)} is older than ${relative(repoRoot, src)}: run \`npm run build\``,
      );
  }
}
