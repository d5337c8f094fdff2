// `churn-runtime` as a child process for the CLI tests: run from source, its JSON log lines
// collected (docs/logging.md: stderr; usage and help text go to stdout, kept as { raw }), and a
// score request that is in flight when SIGTERM arrives.
import { type ChildProcess, spawn } from "node:child_process";
import { request } from "node:http";
import { join } from "node:path";
import { repoRoot } from "./trained-artifact.js";

/** A running CLI and what it has logged so far. */
export interface CliProcess {
  proc: ChildProcess;
  /** Every line of stdout and stderr, parsed as JSON where it is, else `{ raw }`. */
  lines: Record<string, unknown>[];
  exited: Promise<number | null>;
  /** The first log line with this `msg`; rejects if the process exits before logging it. */
  waitForLog(msg: string): Promise<Record<string, unknown>>;
  /** Everything written to stderr so far. */
  stderr(): string;
}

/** How the CLI runs: node's own options, and from source (tsx) or from the build in dist/. */
export interface CliLaunch {
  nodeOptions?: string[];
  /** true: dist/runtime/src/cli.js, as the image and the bin run it (build it first). */
  built?: boolean;
}

/** Runs `churn-runtime <args>` (from source unless `launch.built`) with LOG_LEVEL=info and `env`. */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
  launch: CliLaunch = {},
): CliProcess {
  const entry = launch.built
    ? [join(repoRoot, "dist/runtime/src/cli.js")]
    : ["--import", "tsx", join(repoRoot, "runtime/src/cli.ts")];
  const proc = spawn(process.execPath, [...(launch.nodeOptions ?? []), ...entry, ...args], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: Record<string, unknown>[] = [];
  const waiters: { msg: string; resolve: (l: Record<string, unknown>) => void }[] = [];
  const onLine = (line: string) => {
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      lines.push(parsed);
      for (const w of waiters.filter((w) => w.msg === parsed.msg)) w.resolve(parsed);
    } catch {
      lines.push({ raw: line });
    }
  };
  let stderr = "";
  proc.stdout?.on("data", lineReader(onLine));
  proc.stderr?.on("data", lineReader(onLine));
  proc.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  const waitForLog = (msg: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const found = lines.find((l) => l.msg === msg);
      if (found) return resolve(found);
      waiters.push({ msg, resolve });
      exited.then((code) => reject(new Error(`exited ${code} before logging "${msg}": ${stderr}`)));
    });
  return { proc, lines, exited, waitForLog, stderr: () => stderr };
}

/** Splits one stream's chunks into whole lines. */
function lineReader(onLine: (line: string) => void) {
  let buf = "";
  return (chunk: Buffer) => {
    buf += chunk.toString();
    let nl = buf.indexOf("\n");
    while (nl >= 0) {
      onLine(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      nl = buf.indexOf("\n");
    }
  };
}

/**
 * POSTs `instances` to `url`/v1/score so that the request is in flight when the CLI is told to
 * stop: headers sent and acknowledged (100-continue), SIGTERM sent, and the body only once the
 * CLI has logged "shutting down". Resolves with the answer.
 */
export function scoreAcrossSigterm(
  child: CliProcess,
  url: string,
  instances: unknown[],
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const body = JSON.stringify({ instances });
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/v1/score`,
      {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          expect: "100-continue",
        },
      },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => {
          text += c.toString();
        });
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }),
        );
      },
    );
    req.on("error", reject);
    req.on("continue", () => {
      child.proc.kill("SIGTERM");
      child.waitForLog("shutting down").then(() => req.end(body), reject);
    });
    req.flushHeaders();
  });
}
