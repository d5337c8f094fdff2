import type { V1Lease } from "@kubernetes/client-node";
import { KubeApiError } from "./kube-api-error.js";
import type { KubeClient } from "./kube-client.js";
import { decideLease, type LeaseRecord } from "./lease-decision.js";
import type { Logger } from "./logger.js";
import { formatMicroTime } from "./micro-time.js";
import { Resources } from "./resources.js";

/** Timing and identity of a leader election (client-go's defaults: 15 s / 10 s / 2 s). */
export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

/** Wire shape of a Lease: times are MicroTime strings, not Dates. */
type LeaseObject = Omit<V1Lease, "spec"> & { spec?: LeaseRecord };

/**
 * Lease-based leader election (coordination.k8s.io/v1), compatible with client-go's: it
 * acquires an absent, released or expired lease, renews it every retry period, and reports
 * loss when it could not renew within the renew deadline. Writes are compare-and-swap on
 * resourceVersion, so two candidates can never both win.
 */
export class LeaderElector {
  private observed: { rv?: string; atMs: number } = { atMs: 0 };
  private leading = false;
  private stopped = false;
  private wake: (() => void) | undefined;
  private readonly duration: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;

  constructor(
    private readonly client: KubeClient,
    private readonly opts: LeaderElectionOptions,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.duration = opts.leaseDurationSeconds ?? 15;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    if (
      !(this.duration * 1000 > this.renewDeadlineMs && this.renewDeadlineMs > this.retryPeriodMs)
    ) {
      throw new Error(
        "leader election: need leaseDuration > renewDeadline > retryPeriod " +
          `(got ${this.duration}s, ${this.renewDeadlineMs}ms, ${this.retryPeriodMs}ms)`,
      );
    }
  }

  /** True while this process holds the lease. */
  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * Campaigns until leading, calls `onStarted`, then renews until the lease is lost (calls
   * `onStopped`) or stop() is called. Resolves when the loop ends.
   */
  async run(onStarted: () => void, onStopped: () => void): Promise<void> {
    while (!this.stopped && !(await this.tryAcquireOrRenew())) await this.pause(this.retryPeriodMs);
    if (this.stopped) return;
    this.leading = true;
    this.log.info("became leader", { lease: this.opts.name, identity: this.opts.identity });
    onStarted();
    let lastRenew = this.now();
    while (!this.stopped) {
      await this.pause(this.retryPeriodMs);
      if (this.stopped) break;
      if (await this.tryAcquireOrRenew()) {
        lastRenew = this.now();
      } else if (this.now() - lastRenew > this.renewDeadlineMs) {
        this.leading = false;
        this.log.error("leader lease lost", {
          lease: this.opts.name,
          identity: this.opts.identity,
        });
        onStopped();
        return;
      }
    }
  }

  /** Ends the campaign and, when leading, releases the lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    if (!this.leading) return;
    this.leading = false;
    try {
      const lease = await this.client.get<LeaseObject>(
        Resources.leases,
        this.opts.namespace,
        this.opts.name,
      );
      if (lease?.spec?.holderIdentity !== this.opts.identity) return;
      const now = formatMicroTime(new Date(this.now()));
      await this.client.replace(Resources.leases, {
        ...lease,
        spec: { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1, renewTime: now },
      });
      this.log.info("released leader lease", { lease: this.opts.name });
    } catch (err) {
      this.log.error("could not release leader lease", { error: String(err) });
    }
  }

  /** One attempt; true when this process holds the lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const nowMs = this.now();
    const now = formatMicroTime(new Date(nowMs));
    const { namespace, name, identity } = this.opts;
    try {
      const lease = await this.client.get<LeaseObject>(Resources.leases, namespace, name);
      if (!lease) {
        await this.client.create(Resources.leases, {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name, namespace },
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds: this.duration,
            acquireTime: now,
            renewTime: now,
            leaseTransitions: 0,
          },
        } as LeaseObject);
        this.observed = { atMs: nowMs };
        return true;
      }
      const rv = lease.metadata?.resourceVersion;
      if (rv !== this.observed.rv) this.observed = { rv, atMs: nowMs };
      const action = decideLease(lease.spec, identity, this.observed.atMs, nowMs);
      if (action === "wait") return false;
      const spec = lease.spec ?? {};
      const changedHands = spec.holderIdentity !== identity;
      const updated = await this.client.replace<LeaseObject>(Resources.leases, {
        ...lease,
        spec: {
          ...spec,
          holderIdentity: identity,
          leaseDurationSeconds: this.duration,
          renewTime: now,
          acquireTime: changedHands ? now : (spec.acquireTime ?? now),
          leaseTransitions: (spec.leaseTransitions ?? 0) + (changedHands ? 1 : 0),
        },
      });
      this.observed = { rv: updated.metadata?.resourceVersion, atMs: nowMs };
      return true;
    } catch (err) {
      if (err instanceof KubeApiError && err.conflict) return false;
      this.log.error("leader election attempt failed", { lease: name, error: String(err) });
      return false;
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(t);
        self.wake = undefined;
        resolve();
      }
      this.wake = done;
    });
  }
}
