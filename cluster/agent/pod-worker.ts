import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { V1Container, V1Pod, V1PodStatus, V1Service } from "@kubernetes/client-node";
import { podResolvConf } from "./cluster-dns.js";
import { ContainerConfigError, expandVars } from "./container-env.js";
import { ContainerRunner, type PodHandle, type WorkerContext } from "./container-runner.js";
import { describeError } from "./describe-error.js";
import { createPodNetwork, deletePodNetwork, netnsPids, type PodNetwork } from "./pod-network.js";
import { podStatus } from "./pod-status.js";
import { prepareVolume, VolumeNotReadyError } from "./pod-volumes.js";

export type { WorkerContext };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The kubelet's service links: `<SVC>_SERVICE_HOST`, `_SERVICE_PORT`, `_PORT`... per Service. */
function serviceLinkEnv(services: V1Service[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const svc of services) {
    const ip = svc.spec?.clusterIP;
    if (!ip || ip === "None") continue;
    const name = envName(svc.metadata?.name ?? "");
    const ports = svc.spec?.ports ?? [];
    env[`${name}_SERVICE_HOST`] = ip;
    if (ports[0]) {
      env[`${name}_SERVICE_PORT`] = String(ports[0].port);
      env[`${name}_PORT`] =
        `${(ports[0].protocol ?? "TCP").toLowerCase()}://${ip}:${ports[0].port}`;
    }
    for (const p of ports) {
      if (p.name) env[`${name}_SERVICE_PORT_${envName(p.name)}`] = String(p.port);
    }
  }
  return env;
}

/** A Service or port name as an environment variable name part. */
function envName(name: string): string {
  return name.toUpperCase().replaceAll("-", "_");
}

/**
 * Runs one pod on the node, like the kubelet's pod worker: sandbox (network namespace and
 * address), volumes, init containers in order, then the containers with probes and restarts;
 * on deletion SIGTERM, grace period, SIGKILL, terminal status, and the final delete.
 */
export class PodWorker implements PodHandle {
  pod: V1Pod;
  net?: PodNetwork;
  deleting = false;
  readonly podDir: string;
  readonly key: string;
  private volumes = new Map<string, string>();
  private init: ContainerRunner[];
  private containers: ContainerRunner[];
  private sandboxReady = false;
  private readonly startTime = new Date();
  private lastPushed?: V1PodStatus;
  private pushing = false;
  private dirty = false;
  private finished = false;
  private terminating?: Promise<void>;
  private refreshTimer?: NodeJS.Timeout;

  constructor(
    pod: V1Pod,
    readonly ctx: WorkerContext,
  ) {
    this.pod = pod;
    const m = pod.metadata ?? {};
    this.key = `${m.namespace}/${m.name}`;
    this.podDir = join(ctx.podsDir, `${m.namespace}_${m.name}_${m.uid}`);
    this.init = (pod.spec?.initContainers ?? []).map((c) => new ContainerRunner(c, this, true));
    this.containers = (pod.spec?.containers ?? []).map((c) => new ContainerRunner(c, this, false));
  }

  get restartPolicy(): string {
    return this.pod.spec?.restartPolicy ?? "Always";
  }

  /** Called on every watch event for this pod. */
  update(pod: V1Pod): void {
    this.pod = pod;
    if (pod.metadata?.deletionTimestamp && !this.terminating) {
      const grace =
        pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
      this.terminating = this.terminate(grace * 1000, true);
    }
  }

  /** The pod object is gone from the API (force delete): stop everything now. */
  removed(): Promise<void> {
    if (!this.terminating) this.terminating = this.terminate(0, false);
    return this.terminating;
  }

  /** Starts the pod; resolves when it has finished running (terminal or deleted). */
  async run(): Promise<void> {
    try {
      await this.setUp();
      if (this.deleting) return;
      for (const c of this.init) {
        await c.supervise();
        if (this.deleting || c.record.state.terminated?.exitCode !== 0) {
          if (!this.deleting) this.changed();
          await this.finishIfTerminal();
          return;
        }
      }
      await Promise.all(this.containers.map((c) => c.supervise()));
      await this.finishIfTerminal();
    } catch (err) {
      this.ctx.log(`${this.key}: ${(err as Error).stack ?? err}`);
      void this.ctx.api.event(
        this.pod,
        this.ctx.nodeName,
        "Warning",
        "FailedCreatePodSandBox",
        (err as Error).message,
      );
    }
  }

  private async setUp(): Promise<void> {
    mkdirSync(this.podDir, { recursive: true });
    if (this.pod.spec?.hostNetwork) {
      // Sharing the host's network would put pod ports on the host's addresses: refuse loudly.
      const message = "hostNetwork pods are not supported by the process node";
      for (const c of [...this.init, ...this.containers]) {
        c.record.state = { waiting: { reason: "CreateContainerConfigError", message } };
      }
      void this.ctx.api.event(this.pod, this.ctx.nodeName, "Warning", "Failed", message);
      this.changed();
      this.deleting = true;
      return;
    }
    const uid = (this.pod.metadata?.uid ?? "").replaceAll("-", "");
    const ip = this.ctx.pool.allocate();
    this.net = createPodNetwork(uid.slice(0, 12), ip, this.ctx.network);
    this.sandboxReady = true;
    this.changed();
    for (;;) {
      if (this.deleting) return;
      try {
        await this.prepareVolumes();
        return;
      } catch (err) {
        // Both kinds are retried, as the kubelet does; only the wording differs.
        const message =
          err instanceof VolumeNotReadyError
            ? `waiting for volumes: ${(err as Error).message}`
            : `MountVolume.SetUp failed: ${(err as Error).message}`;
        this.ctx.log(`${this.key}: ${message}`);
        void this.ctx.api.event(this.pod, this.ctx.nodeName, "Warning", "FailedMount", message);
        for (const c of [...this.init, ...this.containers]) {
          c.record.state = { waiting: { reason: "ContainerCreating", message } };
        }
        this.changed();
        await sleep(3000);
      }
    }
  }

  private async prepareVolumes(): Promise<void> {
    let refreshAt: Date | undefined;
    for (const v of this.pod.spec?.volumes ?? []) {
      const prepared = await prepareVolume(this.pod, v, this.podDir, this.ctx.api);
      this.volumes.set(v.name, prepared.hostPath);
      if (prepared.refreshAt && (!refreshAt || prepared.refreshAt < refreshAt))
        refreshAt = prepared.refreshAt;
    }
    if (refreshAt) {
      // Rewrites projected tokens before they expire, as the kubelet's token manager does.
      clearTimeout(this.refreshTimer);
      this.refreshTimer = setTimeout(
        () =>
          void this.prepareVolumes().catch((e) =>
            this.ctx.log(`${this.key}: refresh: ${describeError(e)}`),
          ),
        Math.max(1000, refreshAt.getTime() - Date.now()),
      );
    }
  }

  /** Volume mounts of a container as host-path bind mounts. */
  mountsFor(spec: V1Container) {
    return (spec.volumeMounts ?? []).map((m) => {
      const host = this.volumes.get(m.name);
      if (!host) throw new ContainerConfigError(`volumeMount ${m.name}: no such volume`);
      const sub = m.subPath
        ? expandVars(m.subPath, {})
        : m.subPathExpr
          ? expandVars(m.subPathExpr, {})
          : "";
      const source = sub ? join(host, sub) : host;
      if (sub && !existsSync(source)) mkdirSync(source, { recursive: true });
      return { source, target: m.mountPath, readOnly: m.readOnly ?? false };
    });
  }

  /**
   * The pod's resolv.conf per its dnsPolicy (ClusterFirst: cluster DNS with the kubelet's
   * search path; None: only dnsConfig; Default: the host's, so nothing to mount).
   */
  resolvConf(): string | null {
    const spec = this.pod.spec;
    const policy = spec?.dnsPolicy ?? "ClusterFirst";
    if (policy === "Default") return null;
    const cfg = spec?.dnsConfig;
    const options = (cfg?.options ?? []).map((o) =>
      o.value ? `${o.name}:${o.value}` : (o.name ?? ""),
    );
    let text: string;
    if (policy === "None") {
      text = [
        ...(cfg?.searches?.length ? [`search ${cfg.searches.join(" ")}`] : []),
        ...(cfg?.nameservers ?? []).map((n) => `nameserver ${n}`),
        ...(options.length ? [`options ${options.join(" ")}`] : []),
        "",
      ].join("\n");
    } else {
      text = podResolvConf(
        this.pod.metadata?.namespace ?? "default",
        this.ctx.dnsServer,
        cfg?.searches,
        options,
      );
    }
    const file = join(this.podDir, "resolv.conf");
    writeFileSync(file, text);
    return file;
  }

  /** Environment every container starts from: PATH, HOSTNAME and the kubelet's service links. */
  async baseEnv(): Promise<Record<string, string>> {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      HOME: "/root",
      HOSTNAME: this.pod.spec?.hostname ?? this.pod.metadata?.name ?? "",
    };
    if (this.pod.spec?.enableServiceLinks !== false) {
      try {
        const services = await this.ctx.api.services(this.pod.metadata?.namespace ?? "default");
        Object.assign(env, serviceLinkEnv(services));
      } catch (err) {
        this.ctx.log(`${this.key}: service links: ${describeError(err)}`);
      }
    }
    const api = this.ctx.apiserverForPods;
    Object.assign(env, {
      KUBERNETES_SERVICE_HOST: api.host,
      KUBERNETES_SERVICE_PORT: String(api.port),
      KUBERNETES_SERVICE_PORT_HTTPS: String(api.port),
      KUBERNETES_PORT: `tcp://${api.host}:${api.port}`,
    });
    return env;
  }

  /** Marks the status dirty and pushes it (coalescing bursts into one patch). */
  changed(): void {
    this.dirty = true;
    if (this.pushing) return;
    this.pushing = true;
    void (async () => {
      try {
        while (this.dirty) {
          this.dirty = false;
          await this.pushStatus();
        }
      } finally {
        this.pushing = false;
      }
    })();
  }

  private currentStatus(): V1PodStatus {
    const owned = new Set(["PodReadyToStartContainers", "Initialized", "ContainersReady", "Ready"]);
    const previous: V1PodStatus = {
      conditions: [
        ...(this.pod.status?.conditions ?? []).filter((c) => !owned.has(c.type)),
        ...((this.lastPushed ?? this.pod.status)?.conditions ?? []).filter((c) =>
          owned.has(c.type),
        ),
      ],
    };
    return podStatus(
      {
        sandboxReady: this.sandboxReady,
        podIp: this.net?.ip,
        hostIp: this.ctx.hostIp,
        startTime: this.startTime,
        restartPolicy: this.restartPolicy,
        initContainers: this.init.map((c) => c.record),
        containers: this.containers.map((c) => c.record),
        deleting: this.deleting,
      },
      previous,
      new Date(),
    );
  }

  private async pushStatus(): Promise<void> {
    if (this.finished) return;
    const status = this.currentStatus();
    if (JSON.stringify(status) === JSON.stringify(this.lastPushed)) return;
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const pod = await this.ctx.api.patchPodStatus(this.pod, status);
        this.lastPushed = JSON.parse(JSON.stringify(status));
        if (pod.metadata?.resourceVersion) this.pod = { ...this.pod, status: pod.status };
        return;
      } catch (err) {
        const code = (err as { code?: number }).code;
        if (code === 404 || code === 409) return;
        this.ctx.log(`${this.key}: status update failed: ${describeError(err)}`);
        await sleep(500 * (attempt + 1));
      }
    }
  }

  /** Waits until every queued status patch has been written. */
  async flushStatus(): Promise<void> {
    while (this.pushing || this.dirty) {
      if (!this.pushing) this.changed();
      await sleep(20);
    }
  }

  /** Once every container has stopped for good, the sandbox goes; volumes stay until deletion. */
  private async finishIfTerminal(): Promise<void> {
    const phase = this.currentStatus().phase;
    if (phase !== "Succeeded" && phase !== "Failed") return;
    this.sandboxReady = false;
    this.changed();
    await this.flushStatus();
    this.tearDownNetwork();
  }

  private tearDownNetwork(): void {
    if (!this.net) return;
    for (const pid of netnsPids(this.net.netns)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
    try {
      deletePodNetwork(this.net);
    } catch (err) {
      this.ctx.log(`${this.key}: network teardown: ${describeError(err)}`);
    }
    this.ctx.pool.release(this.net.ip);
    this.net = undefined;
  }

  /**
   * Graceful stop: SIGTERM every container, SIGKILL after the grace period, write the terminal
   * status, then (when the pod still exists) the final delete with grace 0.
   */
  private async terminate(graceMs: number, deleteAfter: boolean): Promise<void> {
    const alreadyTerminal = ["Succeeded", "Failed"].includes(this.pod.status?.phase ?? "");
    this.deleting = true;
    clearTimeout(this.refreshTimer);
    const running = [...this.init, ...this.containers].some((c) => c.pid);
    if (running) {
      void this.ctx.api.event(
        this.pod,
        this.ctx.nodeName,
        "Normal",
        "Killing",
        "Stopping container(s)",
      );
    }
    await Promise.all([...this.init, ...this.containers].map((c) => c.kill(graceMs, true)));
    for (const c of [...this.init, ...this.containers]) c.finalize();
    if (deleteAfter && !alreadyTerminal) {
      this.sandboxReady = false;
      this.changed();
      await this.flushStatus();
    }
    this.finished = true;
    this.tearDownNetwork();
    rmSync(join(this.podDir, "volumes"), { recursive: true, force: true });
    for (const c of [...this.init, ...this.containers]) {
      rmSync(join(this.podDir, "containers", c.spec.name, "tmp"), { recursive: true, force: true });
    }
    if (deleteAfter) await this.ctx.api.deletePod(this.pod);
    this.ctx.log(`${this.key}: stopped`);
  }
}
