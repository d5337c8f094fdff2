import type { ChildProcess } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type {
  V1Container,
  V1ContainerStateTerminated,
  V1Pod,
  V1PodStatus,
  V1Probe,
} from "@kubernetes/client-node";
import { podResolvConf } from "./cluster-dns.js";
import { ContainerConfigError, containerEnv, expandVars } from "./container-env.js";
import { execInContainer, launchContainer } from "./container-process.js";
import { containerArgv, type ImageMap, imageKey } from "./image-map.js";
import type { NodeApi } from "./node-api.js";
import {
  createPodNetwork,
  deletePodNetwork,
  netnsPids,
  type PodIpPool,
  type PodNetwork,
} from "./pod-network.js";
import { type ContainerRecord, podStatus, willRestart } from "./pod-status.js";
import { prepareVolume, VolumeNotReadyError } from "./pod-volumes.js";
import { ProbeTracker, runProbe } from "./probe.js";

/** What a pod worker needs from its node. */
export interface WorkerContext {
  nodeName: string;
  hostIp: string;
  api: NodeApi;
  pool: PodIpPool;
  podsDir: string;
  createdMountPoints: string;
  network: {
    netnsPrefix: string;
    vethPrefix: string;
    bridge: string;
    gatewayIp: string;
    prefixLength: number;
  };
  /** Where pods reach the apiserver (KUBERNETES_SERVICE_HOST/PORT). */
  apiserverForPods: { host: string; port: number };
  imageMap: () => ImageMap;
  /** Cluster DNS address pods with dnsPolicy ClusterFirst are given. */
  dnsServer: string;
  /** Restart back-off: first delay and cap, in ms (the kubelet uses 10 s and 300 s). */
  backoff: { initialMs: number; maxMs: number };
  log: (msg: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MAX_MESSAGE = 4096;

/** One container's process, restarts and probes. */
class ContainerRunner {
  record: ContainerRecord;
  proc?: ChildProcess;
  pid?: number;
  env: Record<string, string> = {};
  workingDir = "/";
  private timers: NodeJS.Timeout[] = [];
  private readiness?: ProbeTracker;
  private liveness?: ProbeTracker;
  private startup?: ProbeTracker;
  private exited?: Promise<void>;
  private stopping = false;
  private backoffMs = 0;
  private wake?: () => void;

  constructor(
    readonly spec: V1Container,
    readonly worker: PodWorker,
    readonly init: boolean,
  ) {
    this.record = {
      name: spec.name,
      image: spec.image ?? "",
      restartCount: 0,
      state: { waiting: { reason: "ContainerCreating" } },
      ready: false,
      started: false,
    };
  }

  private get dir() {
    return join(this.worker.podDir, "containers", this.spec.name);
  }

  /** Host file that backs the container's terminationMessagePath. */
  private get terminationFile() {
    return join(this.dir, `termination-log-${this.record.restartCount}`);
  }

  /** Path of the current attempt's log, `logs/<container>/<restartCount>.log` like the kubelet. */
  get logFile() {
    return join(this.worker.podDir, "logs", this.spec.name, `${this.record.restartCount}.log`);
  }

  /** Starts the process once; resolves when it has been spawned (or failed to be). */
  async start(): Promise<boolean> {
    const ctx = this.worker.ctx;
    const pod = this.worker.pod;
    const image = ctx.imageMap()[imageKey(this.spec.image ?? "")];
    if (!image) {
      this.setWaiting(
        "ErrImageNeverPull",
        `image "${this.spec.image}" is not in the process node's image map (key "${imageKey(this.spec.image ?? "")}"); register it, see test/cluster/README.md`,
      );
      return false;
    }
    try {
      const base = { ...(await this.worker.baseEnv()), ...(image.env ?? {}) };
      this.env = await containerEnv(pod, this.spec, base, ctx.api, ctx.api.nodeAllocatable);
    } catch (err) {
      if (err instanceof ContainerConfigError || (err as { code?: number }).code !== undefined) {
        this.setWaiting("CreateContainerConfigError", (err as Error).message);
        return false;
      }
      throw err;
    }
    // The pod may have been deleted while the environment was being resolved.
    if (this.stopping) return false;
    const argv = containerArgv(image, this.spec).map((a) => expandVars(a, this.env));
    if (argv.length === 0) {
      this.setWaiting(
        "CreateContainerConfigError",
        "no command: the container sets none and the image map gives none",
      );
      return false;
    }
    this.workingDir = this.spec.workingDir || image.workingDir || "/";
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(this.terminationFile, "");
    const mounts = this.worker.mountsFor(this.spec);
    // Like an image's own /tmp: private to the container, so pods never share the host's.
    if (!mounts.some((m) => m.target === "/tmp")) {
      const tmp = join(this.dir, "tmp");
      mkdirSync(tmp, { recursive: true });
      chmodSync(tmp, 0o1777);
      mounts.push({ source: tmp, target: "/tmp", readOnly: false });
    }
    const resolv = this.worker.resolvConf();
    if (resolv && !mounts.some((m) => m.target === "/etc/resolv.conf")) {
      mounts.push({ source: resolv, target: "/etc/resolv.conf", readOnly: true });
    }
    mounts.push({
      source: this.terminationFile,
      target: this.spec.terminationMessagePath || "/dev/termination-log",
      readOnly: false,
    });
    const startedAt = new Date();
    const proc = launchContainer(
      {
        netns: this.worker.net?.netns ?? "",
        argv,
        env: this.env,
        workingDir: this.workingDir,
        mounts,
        logFile: this.logFile,
        scriptFile: join(this.dir, "start.sh"),
        createdMountPoints: ctx.createdMountPoints,
        stageCandidates: [
          join(this.dir, "stage"),
          `/run/churn-stage/${pod.metadata?.uid}-${this.spec.name}`,
          `/.churn-stage/${pod.metadata?.uid}-${this.spec.name}`,
        ],
      },
      (p) => existsSync(p) && statSync(p).isFile(),
    );
    this.proc = proc;
    this.pid = proc.pid;
    writeFileSync(join(this.dir, "pid"), String(proc.pid ?? ""));
    const containerID = `process://${pod.metadata?.uid}/${this.spec.name}/${this.record.restartCount}`;
    this.record.containerID = containerID;
    this.record.state = {
      running: { startedAt: new Date(Math.floor(startedAt.getTime() / 1000) * 1000) },
    };
    this.record.started = !this.spec.startupProbe;
    this.record.ready = false;
    this.exited = new Promise<void>((resolve) => {
      proc.once("error", (err) => {
        this.onExit(127, null, startedAt, err.message);
        resolve();
      });
      proc.once("exit", (code, signal) => {
        this.onExit(code, signal, startedAt);
        resolve();
      });
    });
    void ctx.api.event(
      pod,
      ctx.nodeName,
      "Normal",
      "Started",
      `Started container ${this.spec.name}`,
    );
    if (!this.init) this.startProbes();
    this.worker.changed();
    return true;
  }

  private setWaiting(reason: string, message: string) {
    this.record.state = { waiting: { reason, message } };
    this.record.ready = false;
    this.worker.ctx.log(`${this.worker.key} ${this.spec.name}: ${reason}: ${message}`);
    void this.worker.ctx.api.event(
      this.worker.pod,
      this.worker.ctx.nodeName,
      "Warning",
      "Failed",
      message,
    );
    this.worker.changed();
  }

  private terminationMessage(exitCode: number): string {
    let message = "";
    try {
      message = readFileSync(this.terminationFile, "utf8").slice(0, MAX_MESSAGE);
    } catch {}
    if (
      !message &&
      exitCode !== 0 &&
      this.spec.terminationMessagePolicy === "FallbackToLogsOnError"
    ) {
      try {
        const lines = readFileSync(this.logFile, "utf8").split("\n");
        message = lines.slice(-80).join("\n").slice(-2048);
      } catch {}
    }
    return message;
  }

  private onExit(
    code: number | null,
    signal: NodeJS.Signals | null,
    startedAt: Date,
    error?: string,
  ) {
    this.stopProbes();
    const signals: Record<string, number> = {
      SIGKILL: 9,
      SIGTERM: 15,
      SIGINT: 2,
      SIGHUP: 1,
      SIGQUIT: 3,
    };
    const exitCode = code ?? (signal ? 128 + (signals[signal] ?? 9) : 1);
    const terminated: V1ContainerStateTerminated = {
      exitCode,
      reason: exitCode === 0 ? "Completed" : "Error",
      startedAt: new Date(Math.floor(startedAt.getTime() / 1000) * 1000),
      finishedAt: new Date(Math.floor(Date.now() / 1000) * 1000),
      containerID: this.record.containerID,
    };
    if (signal) terminated.signal = signals[signal] ?? 9;
    const message = error ?? this.terminationMessage(exitCode);
    if (message) terminated.message = message;
    this.record.state = { terminated };
    this.record.ready = false;
    this.proc = undefined;
    this.pid = undefined;
    this.worker.ctx.log(
      `${this.worker.key} ${this.spec.name} exited with ${exitCode}${signal ? ` (${signal})` : ""}`,
    );
    this.worker.changed();
  }

  /**
   * Runs the container until it stops for good: start, wait, and restart with exponential
   * back-off while the restart policy (or, for init containers, failure) says so.
   */
  async supervise(): Promise<void> {
    const ctx = this.worker.ctx;
    for (;;) {
      if (this.stopping) return;
      const ok = await this.start();
      if (!ok) {
        // Config problems (missing ConfigMap, unknown image) are retried like the kubelet does.
        await this.pause(5000);
        continue;
      }
      await this.exited;
      if (this.stopping) return;
      const restartPolicy = this.init
        ? this.record.state.terminated?.exitCode === 0
          ? "Never"
          : this.worker.restartPolicy === "Never"
            ? "Never"
            : "OnFailure"
        : this.worker.restartPolicy;
      if (!willRestart(this.record, restartPolicy, this.worker.deleting)) return;
      const ranFor =
        Date.now() - new Date(this.record.state.terminated?.startedAt ?? Date.now()).getTime();
      // A container that ran cleanly for 10 minutes starts over from the initial back-off.
      if (ranFor > 600_000) this.backoffMs = 0;
      this.backoffMs =
        this.backoffMs === 0
          ? ctx.backoff.initialMs
          : Math.min(this.backoffMs * 2, ctx.backoff.maxMs);
      const last = this.record.state;
      this.record.lastState = last;
      this.record.restartCount++;
      this.record.state = {
        waiting: {
          reason: "CrashLoopBackOff",
          message: `back-off ${Math.round(this.backoffMs / 1000)}s restarting failed container=${this.spec.name} pod=${this.worker.pod.metadata?.name}`,
        },
      };
      void ctx.api.event(
        this.worker.pod,
        ctx.nodeName,
        "Warning",
        "BackOff",
        "Back-off restarting failed container",
      );
      this.worker.changed();
      await this.pause(this.backoffMs);
    }
  }

  /** Waits `ms`, returning early when the container is being stopped. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  private startProbes() {
    const spec = this.spec;
    const schedule = (
      probe: V1Probe,
      handler: (ok: boolean, message: string) => void,
      gate: () => boolean,
    ) => {
      const tick = async () => {
        if (!this.proc || this.stopping) return;
        if (gate()) {
          const r = await runProbe(probe, this.worker.net?.ip ?? "", spec, (argv, timeoutMs) =>
            this.pid
              ? execInContainer(this.pid, argv, this.env, this.workingDir, timeoutMs)
              : Promise.resolve({ exitCode: 1, output: "container not running" }),
          );
          if (!this.proc || this.stopping) return;
          handler(r.ok, r.message);
        }
        this.timers.push(setTimeout(tick, (probe.periodSeconds ?? 10) * 1000));
      };
      this.timers.push(setTimeout(tick, (probe.initialDelaySeconds ?? 0) * 1000));
    };
    if (spec.startupProbe) {
      const probe = spec.startupProbe;
      this.startup = new ProbeTracker(probe, false);
      schedule(
        probe,
        (ok, message) => {
          const before = this.startup?.ok;
          const verdict = this.startup?.record(ok);
          if (verdict && !before) {
            this.record.started = true;
            if (!spec.readinessProbe) this.record.ready = true;
            this.worker.changed();
          } else if (!ok)
            this.unhealthy("Startup", message, probe, this.startup?.failedOut ?? false);
        },
        () => !this.record.started,
      );
    }
    if (spec.readinessProbe) {
      const probe = spec.readinessProbe;
      this.readiness = new ProbeTracker(probe, false);
      schedule(
        probe,
        (ok, message) => {
          const verdict = this.readiness?.record(ok) ?? false;
          if (!ok)
            void this.worker.ctx.api.event(
              this.worker.pod,
              this.worker.ctx.nodeName,
              "Warning",
              "Unhealthy",
              `Readiness probe failed: ${message}`,
            );
          if (verdict !== this.record.ready) {
            this.record.ready = verdict;
            this.worker.changed();
          }
        },
        () => this.record.started,
      );
    } else if (this.record.started) {
      this.record.ready = true;
    }
    if (spec.livenessProbe) {
      const probe = spec.livenessProbe;
      this.liveness = new ProbeTracker(probe, true);
      schedule(
        probe,
        (ok, message) => {
          const verdict = this.liveness?.record(ok) ?? true;
          if (!ok) this.unhealthy("Liveness", message, probe, !verdict);
        },
        () => this.record.started,
      );
    }
  }

  /** A failed liveness/startup probe: report it and, past the threshold, kill the container. */
  private unhealthy(kind: string, message: string, probe: V1Probe, kill: boolean) {
    const ctx = this.worker.ctx;
    void ctx.api.event(
      this.worker.pod,
      ctx.nodeName,
      "Warning",
      "Unhealthy",
      `${kind} probe failed: ${message}`,
    );
    if (!kill) return;
    void ctx.api.event(
      this.worker.pod,
      ctx.nodeName,
      "Normal",
      "Killing",
      `Container ${this.spec.name} failed ${kind.toLowerCase()} probe, will be restarted`,
    );
    const grace =
      probe.terminationGracePeriodSeconds ??
      this.worker.pod.spec?.terminationGracePeriodSeconds ??
      30;
    void this.kill(grace * 1000, false);
  }

  private stopProbes() {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
  }

  /**
   * Stops the process: SIGTERM to its process group, SIGKILL after `graceMs`. With `final`
   * the container is not restarted afterwards.
   */
  async kill(graceMs: number, final: boolean): Promise<void> {
    if (final) {
      this.stopping = true;
      this.wake?.();
    }
    this.stopProbes();
    const pid = this.pid;
    if (!pid || !this.exited) return;
    const signal = (s: NodeJS.Signals) => {
      try {
        process.kill(-pid, s);
      } catch {}
    };
    signal("SIGTERM");
    const done = await Promise.race([
      this.exited.then(() => true),
      sleep(graceMs).then(() => false),
    ]);
    if (!done) {
      signal("SIGKILL");
      await this.exited;
    }
  }

  /** Final state for a pod being deleted: containers that never ran show as unknown. */
  finalize() {
    const s = this.record.state;
    if (s.waiting) {
      this.record.state = this.record.lastState?.terminated
        ? { terminated: this.record.lastState.terminated }
        : {
            terminated: {
              exitCode: 137,
              reason: "ContainerStatusUnknown",
              message:
                "The container could not be located when the pod was deleted.  The container used to be Running",
            },
          };
    }
    this.record.ready = false;
  }
}

/**
 * Runs one pod on the node, like the kubelet's pod worker: sandbox (network namespace and
 * address), volumes, init containers in order, then the containers with probes and restarts;
 * on deletion SIGTERM, grace period, SIGKILL, terminal status, and the final delete.
 */
export class PodWorker {
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
        const message = (err as Error).message;
        const reason = err instanceof VolumeNotReadyError ? "FailedMount" : "FailedMount";
        this.ctx.log(`${this.key}: volumes: ${message}`);
        void this.ctx.api.event(this.pod, this.ctx.nodeName, "Warning", reason, message);
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
        () => void this.prepareVolumes().catch((e) => this.ctx.log(`${this.key}: refresh: ${e}`)),
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
        for (const svc of await this.ctx.api.services(this.pod.metadata?.namespace ?? "default")) {
          const ip = svc.spec?.clusterIP;
          if (!ip || ip === "None") continue;
          const name = (svc.metadata?.name ?? "").toUpperCase().replaceAll("-", "_");
          const ports = svc.spec?.ports ?? [];
          env[`${name}_SERVICE_HOST`] = ip;
          if (ports[0]) {
            env[`${name}_SERVICE_PORT`] = String(ports[0].port);
            env[`${name}_PORT`] =
              `${(ports[0].protocol ?? "TCP").toLowerCase()}://${ip}:${ports[0].port}`;
          }
          for (const p of ports) {
            if (p.name)
              env[`${name}_SERVICE_PORT_${p.name.toUpperCase().replaceAll("-", "_")}`] = String(
                p.port,
              );
          }
        }
      } catch (err) {
        this.ctx.log(`${this.key}: service links: ${err}`);
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
        this.ctx.log(`${this.key}: status update failed: ${err}`);
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
      this.ctx.log(`${this.key}: network teardown: ${err}`);
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
