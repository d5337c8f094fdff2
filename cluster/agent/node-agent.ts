import { randomUUID } from "node:crypto";
import { cpus, hostname, release, totalmem } from "node:os";
import {
  CoordinationV1Api,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Node,
  type V1NodeStatus,
  type V1Pod,
  Watch,
} from "@kubernetes/client-node";
import { describeError } from "./describe-error.js";
import { errorStatus, NodeApi } from "./node-api.js";
import { PodIpPool } from "./pod-network.js";
import { PodWorker, type WorkerContext } from "./pod-worker.js";

/** Settings for one node the agent runs. */
export interface NodeAgentOptions {
  name: string;
  podCidr: string;
  kubeconfig: KubeConfig;
  kubernetesVersion: string;
  /** Port of the agent's kubelet endpoint, advertised in the Node's daemonEndpoints. */
  kubeletPort: number;
  base: Omit<WorkerContext, "nodeName" | "api" | "pool" | "log">;
}

const LEASE_SECONDS = 40;
const RENEW_MS = 10_000;
const STATUS_MS = 60_000;

/**
 * One node: registers the Node with capacity and Ready status, renews its Lease, and runs
 * every pod bound to it through a {@link PodWorker}.
 */
export class NodeAgent {
  readonly api: NodeApi;
  private readonly workers = new Map<string, PodWorker>();
  private readonly timers: NodeJS.Timeout[] = [];
  private abort?: AbortController;
  private stopped = false;
  private readonly bootId = randomUUID();
  readonly allocatable = { cpu: cpus().length, memoryBytes: totalmem() };

  private readonly pool: PodIpPool;

  constructor(private readonly opts: NodeAgentOptions) {
    this.api = new NodeApi(opts.kubeconfig, this.allocatable);
    this.pool = new PodIpPool(opts.podCidr);
  }

  private log = (msg: string) => process.stderr.write(`[agent ${this.opts.name}] ${msg}\n`);

  private nodeStatus(): V1NodeStatus {
    const now = new Date();
    const cond = (type: string, status: string, reason: string, message: string) => ({
      type,
      status,
      reason,
      message,
      lastHeartbeatTime: now,
      lastTransitionTime: this.startedAt,
    });
    const capacity = {
      cpu: String(this.allocatable.cpu),
      memory: `${Math.floor(this.allocatable.memoryBytes / 1024)}Ki`,
      pods: "110",
      "ephemeral-storage": "100Gi",
    };
    return {
      capacity,
      allocatable: capacity,
      conditions: [
        cond(
          "MemoryPressure",
          "False",
          "KubeletHasSufficientMemory",
          "kubelet has sufficient memory available",
        ),
        cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        cond(
          "PIDPressure",
          "False",
          "KubeletHasSufficientPID",
          "kubelet has sufficient PID available",
        ),
        cond("Ready", "True", "KubeletReady", "process node agent is posting ready status"),
      ],
      addresses: [
        { type: "InternalIP", address: this.opts.base.hostIp },
        { type: "Hostname", address: this.opts.name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: this.opts.kubeletPort } },
      nodeInfo: {
        machineID: this.bootId.replaceAll("-", ""),
        systemUUID: this.bootId,
        bootID: this.bootId,
        kernelVersion: release(),
        osImage: `churn process node on ${hostname()}`,
        containerRuntimeVersion: "process://0.1.0",
        kubeletVersion: this.opts.kubernetesVersion,
        kubeProxyVersion: "",
        operatingSystem: "linux",
        architecture: process.arch === "x64" ? "amd64" : process.arch,
      },
    };
  }

  private readonly startedAt = new Date(Math.floor(Date.now() / 1000) * 1000);

  /** Creates (or takes over) the Node object and writes its status. */
  private async register(): Promise<void> {
    const node: V1Node = {
      metadata: {
        name: this.opts.name,
        labels: {
          "kubernetes.io/hostname": this.opts.name,
          "kubernetes.io/os": "linux",
          "kubernetes.io/arch": process.arch === "x64" ? "amd64" : process.arch,
          "churn.mlops.dev/process-node": "true",
        },
      },
      spec: {},
    };
    try {
      await this.api.core.createNode({ body: node });
    } catch (err) {
      if (errorStatus(err) !== 409) throw err;
    }
    await this.writeStatus();
  }

  private async writeStatus(): Promise<void> {
    await this.api.core.patchNodeStatus(
      { name: this.opts.name, body: { status: this.nodeStatus() } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
  }

  /** Renews the node's Lease in kube-node-lease, creating it on first use. */
  private async renewLease(): Promise<void> {
    const api = this.opts.kubeconfig.makeApiClient(CoordinationV1Api);
    const name = this.opts.name;
    const namespace = "kube-node-lease";
    // MicroTime wants exactly six fractional digits; a Date would serialise with three.
    const renewTime = new Date().toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
    const spec = {
      holderIdentity: name,
      leaseDurationSeconds: LEASE_SECONDS,
      renewTime: renewTime as unknown as Date,
    };
    try {
      const lease = await api.readNamespacedLease({ name, namespace });
      lease.spec = { ...lease.spec, ...spec };
      await api.replaceNamespacedLease({ name, namespace, body: lease });
    } catch (err) {
      if (errorStatus(err) !== 404) throw err;
      await api.createNamespacedLease({
        namespace,
        body: { metadata: { name, namespace }, spec },
      });
    }
  }

  private every(ms: number, what: string, fn: () => Promise<void>): void {
    const tick = async () => {
      if (this.stopped) return;
      try {
        await fn();
      } catch (err) {
        this.log(`${what} failed: ${describeError(err)}`);
      }
      if (!this.stopped) this.timers.push(setTimeout(tick, ms));
    };
    this.timers.push(setTimeout(tick, ms));
  }

  private handle(type: string, pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    let worker = this.workers.get(uid);
    if (type === "DELETED") {
      if (worker) {
        this.workers.delete(uid);
        void worker.removed();
      }
      return;
    }
    if (!worker) {
      const phase = pod.status?.phase;
      // A terminal pod from an earlier agent run has nothing left to run; only its deletion.
      if (phase === "Succeeded" || phase === "Failed") {
        if (pod.metadata?.deletionTimestamp) void this.api.deletePod(pod);
        return;
      }
      worker = new PodWorker(pod, {
        ...this.opts.base,
        nodeName: this.opts.name,
        api: this.api,
        pool: this.pool,
        log: this.log,
      });
      this.workers.set(uid, worker);
      const w = worker;
      if (pod.metadata?.deletionTimestamp) {
        w.update(pod);
        return;
      }
      void w.run();
      return;
    }
    worker.update(pod);
  }

  /** Lists then watches the node's pods, relisting whenever the watch ends. */
  private async watchPods(): Promise<void> {
    const fieldSelector = `spec.nodeName=${this.opts.name}`;
    while (!this.stopped) {
      try {
        const list = await this.api.core.listPodForAllNamespaces({ fieldSelector });
        const seen = new Set<string>();
        for (const pod of list.items) {
          seen.add(pod.metadata?.uid ?? "");
          this.handle("MODIFIED", pod);
        }
        for (const [uid, w] of this.workers) {
          if (!seen.has(uid)) this.handle("DELETED", w.pod);
        }
        const rv = list.metadata?.resourceVersion;
        await new Promise<void>((resolve) => {
          void new Watch(this.opts.kubeconfig)
            .watch(
              "/api/v1/pods",
              { fieldSelector, resourceVersion: rv, allowWatchBookmarks: true },
              (type, obj) => {
                if (type === "ADDED" || type === "MODIFIED" || type === "DELETED") {
                  this.handle(type, obj as V1Pod);
                }
              },
              (err) => {
                if (err && !this.stopped) this.log(`pod watch ended: ${describeError(err)}`);
                resolve();
              },
            )
            .then((ac) => {
              this.abort = ac;
              if (this.stopped) ac.abort();
            })
            .catch((err) => {
              this.log(`pod watch failed: ${describeError(err)}`);
              resolve();
            });
        });
      } catch (err) {
        this.log(`pod list failed: ${describeError(err)}`);
      }
      if (!this.stopped) await new Promise((r) => setTimeout(r, 1000));
    }
  }

  /** Registers the node and starts the lease, status and pod loops. */
  async start(): Promise<void> {
    await this.register();
    await this.renewLease();
    this.every(RENEW_MS, "lease renewal", () => this.renewLease());
    this.every(STATUS_MS, "node status", () => this.writeStatus());
    void this.watchPods();
    this.log("registered and ready");
  }

  /** Stops the loops and every pod's processes (fast: the cluster is going away). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.abort?.abort();
    await Promise.all([...this.workers.values()].map((w) => w.removed()));
    this.workers.clear();
  }
}
