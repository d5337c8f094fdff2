import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { OPERATOR_NAMESPACE, repoRoot } from "./install.js";

/** A log line of the operator (JSON). */
export type OperatorLogLine = Record<string, unknown> & { msg: string };

/**
 * The operator as a real process (node + tsx, no build), with its own kubeconfig and flags,
 * so tests can kill it (SIGKILL: a crash, no cleanup) and run several replicas.
 */
export class OperatorProcess {
  readonly lines: OperatorLogLine[] = [];
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> | undefined;
  healthPort = 0;
  metricsPort = 0;

  constructor(
    readonly identity: string,
    private readonly kubeconfig: string,
    private readonly args: string[],
  ) {}

  /** Starts the process and waits until it reports its ports. */
  async start(): Promise<void> {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", join(repoRoot, "operator", "src", "main.ts"), ...this.args],
      {
        cwd: repoRoot,
        env: {
          ...process.env,
          KUBECONFIG: this.kubeconfig,
          POD_NAME: this.identity,
          LOG_LEVEL: "debug",
        },
        stdio: ["ignore", "inherit", "pipe"],
      },
    );
    this.child = child;
    this.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
    const rl = createInterface({ input: child.stderr as NodeJS.ReadableStream });
    const ready = new Promise<void>((resolve, reject) => {
      rl.on("line", (line) => {
        let parsed: OperatorLogLine;
        try {
          parsed = JSON.parse(line) as OperatorLogLine;
        } catch {
          parsed = { msg: line };
        }
        this.lines.push(parsed);
        if (process.env.OPERATOR_LOGS) process.stderr.write(`[${this.identity}] ${line}\n`);
        if (parsed.msg === "operator started") {
          this.healthPort = Number(parsed.healthPort);
          this.metricsPort = Number(parsed.metricsPort);
          resolve();
        }
      });
      void this.exited?.then((code) =>
        reject(
          new Error(
            `operator ${this.identity} exited with ${code} before starting:\n${this.tail()}`,
          ),
        ),
      );
    });
    await ready;
  }

  /** The last log lines, for failure messages. */
  tail(n = 30): string {
    return this.lines
      .slice(-n)
      .map((l) => JSON.stringify(l))
      .join("\n");
  }

  /** Whether a log line with this message (and optional fields) was written. */
  logged(msg: string, fields: Record<string, unknown> = {}): boolean {
    return this.lines.some(
      (l) => l.msg === msg && Object.entries(fields).every(([k, v]) => l[k] === v),
    );
  }

  /** Sends a signal and waits for the exit code. */
  async kill(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    if (!this.child || this.child.exitCode !== null) return this.child?.exitCode ?? null;
    this.child.kill(signal);
    return (await this.exited) ?? null;
  }

  /** Fetches the operator's /metrics text. */
  async metrics(): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`);
    return res.text();
  }

  /** Sum of a metric's samples whose labels include `labels`. */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const text = await this.metrics();
    let sum = 0;
    for (const line of text.split("\n")) {
      if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
      if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
      sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
    return sum;
  }

  /** GETs a probe endpoint; returns the status code. */
  async probe(path: "/healthz" | "/readyz"): Promise<number> {
    return (await fetch(`http://127.0.0.1:${this.healthPort}${path}`)).status;
  }
}

/**
 * An operator (not started yet) watching only `ns`, leader-elected on a Lease of its own in the
 * operator's namespace, on free loopback ports so it collides with nothing else running here.
 */
export function namespacedOperator(
  identity: string,
  kubeconfig: string,
  ns: string,
  extraArgs: string[] = [],
): OperatorProcess {
  return new OperatorProcess(identity, kubeconfig, [
    ...["--namespace", ns],
    ...["--leader-election-namespace", OPERATOR_NAMESPACE],
    ...["--leader-election-id", `churn-operator-${ns}`],
    ...["--metrics-bind-address", "127.0.0.1:0", "--health-probe-bind-address", "127.0.0.1:0"],
    ...extraArgs,
  ]);
}
