import { Backoff } from "./backoff.js";

/** Hooks a work queue reports to (metrics); every hook is optional. */
export interface WorkQueueObserver {
  depth?(n: number): void;
  added?(): void;
  retried?(): void;
  /** Seconds a key waited between becoming ready and being picked up. */
  queued?(seconds: number): void;
}

/**
 * A per-key work queue with client-go semantics: a key is queued at most once, is never handed
 * to two workers at the same time, and a key added while being processed is queued again when
 * its worker calls done(). Failed keys come back after a per-key exponential backoff.
 */
export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly readyAt = new Map<string, number>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly failures = new Map<string, Backoff>();
  private readonly waiters: Array<(key: string | undefined) => void> = [];
  private shuttingDown = false;

  constructor(
    private readonly baseRetryMs = 5,
    private readonly maxRetryMs = 1000 * 60 * 5,
    private readonly observer: WorkQueueObserver = {},
  ) {}

  /** Queues a key now (no-op when it is already queued). */
  add(key: string): void {
    if (this.shuttingDown) return;
    this.observer.added?.();
    if (this.dirty.has(key)) return;
    this.dirty.add(key);
    this.readyAt.set(key, Date.now());
    if (this.processing.has(key)) return;
    this.push(key);
  }

  /** Queues a key after `ms`; an earlier pending deadline for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + ms;
    const pending = this.timers.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.timers.set(key, { at, timer });
  }

  /** Queues a key after its next backoff delay (the retry path after an error). */
  addRateLimited(key: string): void {
    let backoff = this.failures.get(key);
    if (!backoff) {
      backoff = new Backoff(this.baseRetryMs, this.maxRetryMs);
      this.failures.set(key, backoff);
    }
    this.observer.retried?.();
    this.addAfter(key, backoff.next());
  }

  /** Clears a key's failure history (after a successful reconcile). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** Number of consecutive failures recorded for a key. */
  retries(key: string): number {
    return this.failures.get(key)?.attempts ?? 0;
  }

  /** Waits for the next key; undefined once the queue is shut down and drained of waiters. */
  get(): Promise<string | undefined> {
    const key = this.take();
    if (key !== undefined || this.shuttingDown) return Promise.resolve(key);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks a key's processing finished; re-queues it if it was added meanwhile. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) this.push(key);
  }

  /** Stops handing out keys; pending get() calls resolve undefined. */
  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
  }

  /** Keys waiting to be processed. */
  get length(): number {
    return this.queue.length;
  }

  private push(key: string): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      this.queue.push(key);
      waiter(this.take());
      return;
    }
    this.queue.push(key);
    this.observer.depth?.(this.queue.length);
  }

  private take(): string | undefined {
    const key = this.queue.shift();
    if (key === undefined) return undefined;
    this.dirty.delete(key);
    this.processing.add(key);
    const since = this.readyAt.get(key);
    this.readyAt.delete(key);
    if (since !== undefined) this.observer.queued?.((Date.now() - since) / 1000);
    this.observer.depth?.(this.queue.length);
    return key;
  }
}
