// A real Prometheus server on this host, watching the serving pods the way a cluster's own
// Prometheus would: Kubernetes service discovery (role: pod) against the test cluster's
// apiserver, kept to the operator's pods on the serving port, with the standard relabelling to
// the `namespace` and `pod` labels the prometheus analysis provider queries by. Pod IPs are
// reachable from the host, so it scrapes them directly. It can be stopped and started again on
// the same port and data directory, as an outage and a recovery look to its clients.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { waitFor } from "../../../../cluster/testing/wait-for.js";
import { Defaults } from "../../../../operator/src/api/defaults.js";
import { Labels, MANAGED_BY } from "../../../../operator/src/controllers/shared/labels.js";
import { ensurePrometheus } from "../../../chart/prometheus-binary.js";

/** A scrape target as Prometheus reports it (`/api/v1/targets`). */
export interface ActiveTarget {
  labels: Record<string, string>;
  scrapeUrl: string;
  health: "up" | "down" | "unknown";
  lastError: string;
}

/** Where Prometheus discovers pods. */
export interface DiscoveryOptions {
  /** A kubeconfig allowed to list and watch pods in `namespaces`. */
  kubeconfig: string;
  namespaces: string[];
}

/** A Kubernetes-SD label name for a pod label (`.`, `/` and `-` become `_`). */
const podLabel = (key: string) =>
  `__meta_kubernetes_pod_label_${key.replace(/[^a-zA-Z0-9_]/g, "_")}`;

/** The configuration: every pod of the operator's, on the serving port, scraped each second. */
export function prometheusConfig(o: DiscoveryOptions): Record<string, unknown> {
  return {
    global: { scrape_interval: "1s", scrape_timeout: "1s", evaluation_interval: "1s" },
    scrape_configs: [
      {
        job_name: "churn-pods",
        metrics_path: "/metrics",
        kubernetes_sd_configs: [
          { role: "pod", kubeconfig_file: o.kubeconfig, namespaces: { names: o.namespaces } },
        ],
        relabel_configs: [
          // Serving and router pods: the operator's, on the port they serve and export on.
          { source_labels: [podLabel(Labels.managedBy)], regex: MANAGED_BY, action: "keep" },
          {
            source_labels: ["__meta_kubernetes_pod_container_port_number"],
            regex: String(Defaults.servingPort),
            action: "keep",
          },
          // A finished pod has nothing to scrape.
          {
            source_labels: ["__meta_kubernetes_pod_phase"],
            regex: "Succeeded|Failed",
            action: "drop",
          },
          { source_labels: ["__meta_kubernetes_namespace"], target_label: "namespace" },
          { source_labels: ["__meta_kubernetes_pod_name"], target_label: "pod" },
        ],
      },
    ],
  };
}

/** A free loopback port (kept for the server's whole life, restarts included). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no free port");
  return address.port;
}

/** The pinned Prometheus server as a child process of the test. */
export class LocalPrometheus {
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;

  private constructor(
    private readonly binary: string,
    private readonly dir: string,
    private readonly port: number,
  ) {}

  /** When the server last started, and when it first did (ms since the epoch). */
  startedAt = 0;
  firstStartedAt = 0;

  /** Builds (or reuses) the binary, writes the configuration and starts the server. */
  static start(discovery: DiscoveryOptions): Promise<LocalPrometheus> {
    return LocalPrometheus.withConfig(prometheusConfig(discovery));
  }

  /** The same with a configuration of the caller's (e.g. static scrape targets). */
  static async withConfig(config: Record<string, unknown>): Promise<LocalPrometheus> {
    const binary = await ensurePrometheus();
    const dir = mkdtempSync(join(tmpdir(), "churn-prometheus-"));
    writeFileSync(join(dir, "prometheus.yml"), stringify(config));
    const p = new LocalPrometheus(binary, dir, await freePort());
    await p.start();
    return p;
  }

  /** Base URL of its HTTP API: what a ChurnModel's `provider.prometheus.address` names. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Whether the server process is running. */
  get running(): boolean {
    return this.child !== undefined;
  }

  /** Starts the server (again: same port, same data) and waits until `/-/ready` says so. */
  async start(): Promise<void> {
    if (this.child) return;
    const fd = openSync(this.logFile, "a");
    this.startedAt = Date.now();
    this.firstStartedAt ||= this.startedAt;
    const child = spawn(
      this.binary,
      [
        `--config.file=${join(this.dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(this.dir, "data")}`,
        `--web.listen-address=127.0.0.1:${this.port}`,
      ],
      { stdio: ["ignore", fd, fd] },
    );
    this.child = child;
    let gone = false;
    this.exited = new Promise((resolve) =>
      child.once("exit", () => {
        gone = true;
        if (this.child === child) this.child = undefined;
        resolve();
      }),
    );
    await waitFor(
      `prometheus at ${this.url} ready`,
      async () => {
        if (gone) throw new Error("prometheus exited");
        const res = await fetch(`${this.url}/-/ready`);
        await res.arrayBuffer();
        return res.ok;
      },
      { timeoutMs: 60_000, describe: () => this.logTail() },
    );
  }

  /** Stops the server as an operator of it would (SIGTERM) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill("SIGTERM");
    await this.exited;
  }

  /** Stops the server and removes its configuration, data and log. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The targets service discovery kept, with their last scrape's health. */
  async activeTargets(): Promise<ActiveTarget[]> {
    const res = await fetch(`${this.url}/api/v1/targets?state=active`);
    const body = (await res.json()) as { data?: { activeTargets?: ActiveTarget[] } };
    return body.data?.activeTargets ?? [];
  }

  /** Waits until every pod in `pods` is a target whose last scrape succeeded. */
  waitForTargetsUp(namespace: string, pods: () => Promise<string[]>): Promise<ActiveTarget[]> {
    return waitFor(
      `prometheus to discover and scrape the pods of ${namespace}`,
      async () => {
        const want = await pods();
        const targets = await this.activeTargets();
        const up = new Set(
          targets
            .filter((t) => t.labels.namespace === namespace && t.health === "up")
            .map((t) => t.labels.pod),
        );
        return want.length > 0 && want.every((p) => up.has(p)) ? targets : undefined;
      },
      {
        timeoutMs: 60_000,
        describe: async () =>
          `targets: ${JSON.stringify(await this.activeTargets().catch((e) => String(e)))}\n${this.logTail()}`,
      },
    );
  }

  /** The samples of an instant query's vector, as label sets and numbers. */
  async query(
    promql: string,
    at?: Date,
  ): Promise<{ labels: Record<string, string>; value: number }[]> {
    const params = new URLSearchParams({ query: promql });
    if (at) params.set("time", String(at.getTime() / 1000));
    const res = await fetch(`${this.url}/api/v1/query`, { method: "POST", body: params });
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data?: {
        resultType: string;
        result: { metric: Record<string, string>; value: [number, string] }[];
      };
    };
    if (body.status !== "success" || body.data?.resultType !== "vector")
      throw new Error(`prometheus refused ${promql}: ${body.error ?? JSON.stringify(body.data)}`);
    return body.data.result.map((r) => ({ labels: r.metric, value: Number(r.value[1]) }));
  }

  /** The first sample's value of an instant query (at `at`, else now), or undefined for none. */
  async value(promql: string, at?: Date): Promise<number | undefined> {
    return (await this.query(promql, at))[0]?.value;
  }

  /** The server's last log lines, for failure messages. */
  logTail(n = 20): string {
    try {
      return readFileSync(this.logFile, "utf8").trimEnd().split("\n").slice(-n).join("\n");
    } catch {
      return "";
    }
  }

  private get logFile(): string {
    return join(this.dir, "prometheus.log");
  }
}
