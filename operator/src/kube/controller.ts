import type { ControllerMetrics } from "./controller-metrics.js";
import type { Logger } from "./logger.js";
import { type ReconcileResult, TerminalError } from "./reconcile-result.js";
import { WorkQueue } from "./work-queue.js";

/** Reconciles one `namespace/name` key; throws to retry with backoff. */
export type Reconciler = (key: string) => Promise<ReconcileResult>;

/** Name, workers and reconciler of a controller. */
export interface ControllerOptions {
  name: string;
  reconcile: Reconciler;
  workers?: number;
  metrics: ControllerMetrics;
  log: Logger;
}

/**
 * Runs a reconciler over a per-key work queue with N workers: errors are retried with per-key
 * backoff (TerminalError is not), requeue requests are honoured, and every pass is counted
 * in the controller-runtime metrics.
 */
export class Controller {
  readonly queue: WorkQueue;
  private readonly workers: Promise<void>[] = [];
  private readonly name: string;
  private started = false;

  constructor(private readonly opts: ControllerOptions) {
    this.name = opts.name;
    this.queue = new WorkQueue(5, 5 * 60_000, opts.metrics.queueObserver(opts.name));
    opts.metrics.registerController(opts.name, opts.workers ?? 2);
  }

  /** Queues a key for reconciliation. */
  enqueue(key: string): void {
    this.queue.add(key);
  }

  /** Starts the workers (keys queued before start wait until then). */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (let i = 0; i < (this.opts.workers ?? 2); i++) this.workers.push(this.work());
  }

  /** Stops handing out keys and waits for in-flight reconciles to finish. */
  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all(this.workers);
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      await this.process(key);
    }
  }

  private async process(key: string): Promise<void> {
    const { metrics, log } = this.opts;
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    metrics.workerBusy(this.name, 1);
    try {
      const result = await this.opts.reconcile(key);
      this.queue.forget(key);
      if (result.requeueAfterMs !== undefined) {
        this.queue.addAfter(key, result.requeueAfterMs);
        metrics.reconciled(this.name, "requeue_after", seconds());
      } else {
        metrics.reconciled(this.name, "success", seconds());
      }
    } catch (err) {
      const terminal = err instanceof TerminalError;
      metrics.reconciled(this.name, "error", seconds(), terminal);
      log.error("reconcile failed", {
        controller: this.name,
        key,
        terminal,
        retries: this.queue.retries(key),
        error: err instanceof Error ? err.message : String(err),
      });
      if (terminal) this.queue.forget(key);
      else this.queue.addRateLimited(key);
    } finally {
      metrics.workerBusy(this.name, -1);
      this.queue.done(key);
    }
  }
}
