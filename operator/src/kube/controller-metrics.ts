import type { Counter, Gauge, Histogram, Registry } from "prom-client";
import { programMetrics } from "../../../common/metric-factory.js";
import type { WorkQueueObserver } from "./work-queue.js";

/** Reconcile outcomes, as controller-runtime labels them. */
export type ReconcileResult = "success" | "error" | "requeue" | "requeue_after";

/**
 * The operator's Prometheus metrics, named exactly like controller-runtime's so existing
 * dashboards and alerts for Go operators work unchanged, plus Node's process metrics
 * (`process_*`, `nodejs_*`) unless turned off.
 */
export class ControllerMetrics {
  readonly registry: Registry;
  private readonly reconcileTotal: Counter<"controller" | "result">;
  private readonly reconcileErrors: Counter<"controller">;
  private readonly terminalErrors: Counter<"controller">;
  private readonly reconcileTime: Histogram<"controller">;
  private readonly activeWorkers: Gauge<"controller">;
  private readonly maxConcurrent: Gauge<"controller">;
  private readonly depth: Gauge<"name" | "controller">;
  private readonly adds: Counter<"name" | "controller">;
  private readonly retries: Counter<"name" | "controller">;
  private readonly queueDuration: Histogram<"name" | "controller">;
  private readonly leader: Gauge<"name">;
  private readonly rememberedSources = new Map<string, () => number>();

  constructor(options: { processMetrics?: boolean } = {}) {
    const m = programMetrics(options);
    this.registry = m.registry;
    const controller = ["controller"] as const;
    const queue = ["name", "controller"] as const;
    this.reconcileTotal = m.counter(
      "controller_runtime_reconcile_total",
      "Total number of reconciliations per controller",
      ["controller", "result"],
    );
    this.reconcileErrors = m.counter(
      "controller_runtime_reconcile_errors_total",
      "Total number of reconciliation errors per controller",
      controller,
    );
    this.terminalErrors = m.counter(
      "controller_runtime_terminal_reconcile_errors_total",
      "Total number of terminal reconciliation errors per controller",
      controller,
    );
    this.reconcileTime = m.histogram(
      "controller_runtime_reconcile_time_seconds",
      "Length of time per reconciliation per controller",
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      controller,
    );
    this.activeWorkers = m.gauge(
      "controller_runtime_active_workers",
      "Number of currently used workers per controller",
      controller,
    );
    this.maxConcurrent = m.gauge(
      "controller_runtime_max_concurrent_reconciles",
      "Maximum number of concurrent reconciles per controller",
      controller,
    );
    this.depth = m.gauge("workqueue_depth", "Current depth of workqueue", queue);
    this.adds = m.counter(
      "workqueue_adds_total",
      "Total number of adds handled by workqueue",
      queue,
    );
    this.retries = m.counter(
      "workqueue_retries_total",
      "Total number of retries handled by workqueue",
      queue,
    );
    this.queueDuration = m.histogram(
      "workqueue_queue_duration_seconds",
      "How long in seconds an item stays in workqueue before being requested",
      [0.001, 0.01, 0.1, 1, 10, 100],
      queue,
    );
    this.leader = m.gauge(
      "leader_election_master_status",
      "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master",
      ["name"],
    );
    const sources = this.rememberedSources;
    m.gauge(
      "churn_operator_remembered_objects",
      "Objects a controller keeps per-object state for in memory (statuses written, children applied); falls back as objects are deleted",
      controller,
      function collect() {
        for (const [controller, count] of sources) this.set({ controller }, count());
      },
    );
  }

  /** Reports `count()` as the controller's remembered objects on every scrape. */
  trackRemembered(controller: string, count: () => number): void {
    this.rememberedSources.set(controller, count);
  }

  /**
   * Records one finished reconcile. A terminal error (one retrying cannot fix) counts as an
   * error too, as in controller-runtime, and in the terminal series besides.
   */
  reconciled(controller: string, result: ReconcileResult, seconds: number, terminal = false): void {
    this.reconcileTotal.inc({ controller, result });
    if (result === "error") this.reconcileErrors.inc({ controller });
    if (terminal) this.terminalErrors.inc({ controller });
    this.reconcileTime.observe({ controller }, seconds);
  }

  /** Tracks workers busy in a controller. */
  workerBusy(controller: string, delta: 1 | -1): void {
    this.activeWorkers.inc({ controller }, delta);
  }

  /** Declares a controller's worker count and zeroes its series so they exist from the start. */
  registerController(controller: string, workers: number): void {
    this.maxConcurrent.set({ controller }, workers);
    this.activeWorkers.set({ controller }, 0);
    this.reconcileErrors.inc({ controller }, 0);
    this.terminalErrors.inc({ controller }, 0);
    this.depth.set({ name: controller, controller }, 0);
    for (const result of ["success", "error", "requeue", "requeue_after"] as const) {
      this.reconcileTotal.inc({ controller, result }, 0);
    }
  }

  /** A work-queue observer feeding the workqueue_* series for one controller. */
  queueObserver(controller: string): WorkQueueObserver {
    const labels = { name: controller, controller };
    return {
      depth: (n) => this.depth.set(labels, n),
      added: () => this.adds.inc(labels),
      retried: () => this.retries.inc(labels),
      queued: (s) => this.queueDuration.observe(labels, s),
    };
  }

  /** Sets whether this replica holds the leader lease. */
  setLeader(lease: string, leading: boolean): void {
    this.leader.set({ name: lease }, leading ? 1 : 0);
  }
}
