import type { ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type {
  V1Container,
  V1ContainerStateTerminated,
  V1Pod,
  V1Probe,
} from "@kubernetes/client-node";
import { repoRoot } from "../cluster-layout.js";
import { ContainerConfigError, containerEnv, expandVars } from "./container-env.js";
import { type ContainerMount, execInContainer, launchContainer } from "./container-process.js";
import { containerArgv, type ImageCommand, type ImageMap, imageKey } from "./image-map.js";
import type { NodeApi } from "./node-api.js";
import type { PodIpPool, PodNetwork } from "./pod-network.js";
import { type ContainerRecord, willRestart } from "./pod-status.js";
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

/** The pod a container belongs to, as its runner sees it (implemented by PodWorker). */
export interface PodHandle {
  readonly pod: V1Pod;
  readonly ctx: WorkerContext;
  readonly podDir: string;
  readonly key: string;
  readonly net?: PodNetwork;
  readonly restartPolicy: string;
  readonly deleting: boolean;
  /** Status changed: push it. */
  changed(): void;
  baseEnv(): Promise<Record<string, string>>;
  mountsFor(spec: V1Container): ContainerMount[];
  resolvConf(): string | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MAX_MESSAGE = 4096;

/** One container's process, restarts and probes. */
export class ContainerRunner {
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
  /**
   * SIGTERM sent and the process not yet gone. Liveness and startup probes stop then, as a
   * kubelet's do; readiness probes go on until the process exits, so a server that turns
   * unready while it drains shows as unready (EndpointSlice `serving: false`) before it is gone.
   */
  private killing = false;
  private backoffMs = 0;
  private wake?: () => void;

  constructor(
    readonly spec: V1Container,
    readonly worker: PodHandle,
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
    // The pod as it was when this attempt began: the worker swaps in newer versions meanwhile.
    const pod = this.worker.pod;
    const image = this.lookUpImage();
    if (!image) return false;
    if (!(await this.resolveEnv(pod, image))) return false;
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
    const mounts = this.containerMounts();
    const startedAt = new Date();
    const proc = this.launch(pod, argv, mounts);
    this.markRunning(pod, proc, startedAt);
    const ctx = this.worker.ctx;
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

  /** The image map's entry for the container's image; waits with ErrImageNeverPull without one. */
  private lookUpImage(): ImageCommand | undefined {
    const key = imageKey(this.spec.image ?? "");
    const image = this.worker.ctx.imageMap()[key];
    if (!image) {
      this.setWaiting(
        "ErrImageNeverPull",
        `image "${this.spec.image}" is not in the process node's image map (key "${key}"); register it, see cluster/README.md`,
      );
    }
    return image;
  }

  /** Resolves `this.env`; false (waiting with CreateContainerConfigError) when it cannot be. */
  private async resolveEnv(pod: V1Pod, image: ImageCommand): Promise<boolean> {
    const ctx = this.worker.ctx;
    try {
      const base = { ...(await this.worker.baseEnv()), ...(image.env ?? {}) };
      this.env = await containerEnv(pod, this.spec, base, ctx.api, ctx.api.nodeAllocatable);
      return true;
    } catch (err) {
      if (err instanceof ContainerConfigError || (err as { code?: number }).code !== undefined) {
        this.setWaiting("CreateContainerConfigError", (err as Error).message);
        return false;
      }
      throw err;
    }
  }

  /** The pod's mounts for this container plus what every container gets. */
  private containerMounts(): ContainerMount[] {
    const mounts = this.worker.mountsFor(this.spec);
    // Like an image's own /tmp: private to the container, so pods never share the host's.
    if (!mounts.some((m) => m.target === "/tmp")) {
      const tmp = join(this.dir, "tmp");
      mkdirSync(tmp, { recursive: true });
      chmodSync(tmp, 0o1777);
      mounts.push({ source: tmp, target: "/tmp", readOnly: false });
    }
    // The project's images are this checkout. When it lives under a volume's mountPath (a CI
    // clone under /tmp, with the pod's emptyDir or the private /tmp above), bind it back on top,
    // or the container could not even find its program.
    if (mounts.some((m) => repoRoot === m.target || repoRoot.startsWith(`${m.target}/`))) {
      mounts.push({ source: repoRoot, target: repoRoot, readOnly: false });
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
    return mounts;
  }

  /** Spawns the container's process in the pod's network namespace. */
  private launch(pod: V1Pod, argv: string[], mounts: ContainerMount[]): ChildProcess {
    const ctx = this.worker.ctx;
    const uid = pod.metadata?.uid;
    return launchContainer(
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
          `/run/churn-stage/${uid}-${this.spec.name}`,
          `/.churn-stage/${uid}-${this.spec.name}`,
        ],
      },
      (p) => existsSync(p) && statSync(p).isFile(),
    );
  }

  /** Records the spawned process as the running attempt and watches for its exit. */
  private markRunning(pod: V1Pod, proc: ChildProcess, startedAt: Date): void {
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
    this.killing = false;
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
      if (!willRestart(this.record, this.restartPolicy(), this.worker.deleting)) return;
      this.growBackoff();
      this.enterCrashLoopBackOff();
      await this.pause(this.backoffMs);
    }
  }

  /** The pod's restart policy; an init container is never restarted once it has succeeded. */
  private restartPolicy(): string {
    if (!this.init) return this.worker.restartPolicy;
    if (this.record.state.terminated?.exitCode === 0) return "Never";
    return this.worker.restartPolicy === "Never" ? "Never" : "OnFailure";
  }

  /** Doubles the restart back-off up to the cap, starting over after a long clean run. */
  private growBackoff(): void {
    const { backoff } = this.worker.ctx;
    const ranFor =
      Date.now() - new Date(this.record.state.terminated?.startedAt ?? Date.now()).getTime();
    // A container that ran cleanly for 10 minutes starts over from the initial back-off.
    if (ranFor > 600_000) this.backoffMs = 0;
    this.backoffMs =
      this.backoffMs === 0 ? backoff.initialMs : Math.min(this.backoffMs * 2, backoff.maxMs);
  }

  /** Moves the finished attempt to lastState and reports CrashLoopBackOff until the restart. */
  private enterCrashLoopBackOff(): void {
    const ctx = this.worker.ctx;
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
      whileKilling = false,
    ) => {
      const live = () => this.proc !== undefined && (whileKilling || !this.killing);
      const tick = async () => {
        if (!live()) return;
        if (gate()) {
          const r = await runProbe(probe, this.worker.net?.ip ?? "", spec, (argv, timeoutMs) =>
            this.pid
              ? execInContainer(this.pid, argv, this.env, this.workingDir, timeoutMs)
              : Promise.resolve({ exitCode: 1, output: "container not running" }),
          );
          if (!live()) return;
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
        true,
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
    const pid = this.pid;
    if (!pid || !this.exited) {
      this.stopProbes();
      return;
    }
    this.killing = true;
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
