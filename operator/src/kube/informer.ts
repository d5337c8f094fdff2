import { Backoff } from "./backoff.js";
import { KubeApiError } from "./kube-api-error.js";
import type { KubeClient } from "./kube-client.js";
import { type KubeObject, objectKey } from "./kube-object.js";
import type { Logger } from "./logger.js";
import type { ResourceType } from "./resource-type.js";

/** Callbacks for cache changes; `old` is the previous version on updates. */
export interface InformerHandler<T> {
  add?(obj: T): void;
  update?(obj: T, old: T): void;
  delete?(obj: T): void;
}

/** Where and what an informer watches. */
export interface InformerOptions {
  /** Only this namespace; all namespaces when undefined. */
  namespace?: string;
  labelSelector?: string;
  /** Restart delays after failures (ms). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Server-side watch timeout; a fresh watch is opened from the last resourceVersion after it. */
  watchTimeoutSeconds?: number;
}

/**
 * A list+watch cache of one resource type. It survives everything a long-lived watch meets:
 * the stream ending, connection errors, apiserver restarts and 410 Gone (too old a
 * resourceVersion), restarting with backoff and relisting when needed; a relist reconciles the
 * cache and reports what changed (including deletions missed while disconnected).
 */
export class Informer<T extends KubeObject> {
  private readonly store = new Map<string, T>();
  private readonly handlers: InformerHandler<T>[] = [];
  private readonly backoff: Backoff;
  private resourceVersion: string | undefined;
  private synced = false;
  private stopped = false;
  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private syncWaiters: Array<() => void> = [];
  /** Number of successful list calls; lets tests observe relists. */
  lists = 0;

  constructor(
    private readonly client: KubeClient,
    readonly type: ResourceType,
    private readonly log: Logger,
    private readonly opts: InformerOptions = {},
  ) {
    this.backoff = new Backoff(opts.backoffBaseMs ?? 200, opts.backoffMaxMs ?? 30_000);
  }

  /** Registers change callbacks (before start, to see the initial list as adds). */
  on(handler: InformerHandler<T>): void {
    this.handlers.push(handler);
  }

  /** Starts the list+watch loop in the background. */
  start(): void {
    if (this.loop) return;
    this.loop = this.run();
  }

  /** Stops watching; resolves once the loop has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    await this.loop;
  }

  /** True once the first list has filled the cache. */
  get hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves when the first list has filled the cache. */
  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /** The cached object with this `namespace/name` key. */
  get(key: string): T | undefined {
    return this.store.get(key);
  }

  /** All cached objects, optionally only one namespace's. */
  list(namespace?: string): T[] {
    const all = [...this.store.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  private async run(): Promise<void> {
    let needList = true;
    while (!this.stopped) {
      try {
        await this.listAndWatch(needList);
        needList = false;
      } catch (err) {
        if (this.stopped) break;
        needList = true;
        await this.restartAfter(err);
      }
    }
  }

  /** A list (when the cache needs one), then a watch until its stream ends. */
  private async listAndWatch(needList: boolean): Promise<void> {
    if (needList) await this.relist();
    await this.watchOnce();
    // A clean end of stream (server timeout): resume from the last resourceVersion.
    this.backoff.reset();
  }

  /** Says why the watch ended and waits out the backoff (none when the version expired). */
  private async restartAfter(err: unknown): Promise<void> {
    const gone = err instanceof KubeApiError && err.gone;
    const delay = gone ? 0 : this.backoff.next();
    this.log.info("informer restarting", {
      resource: this.type.plural,
      reason: gone ? "resourceVersion expired (410)" : String((err as Error).message ?? err),
      delayMs: delay,
    });
    if (delay > 0) await this.sleep(delay);
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    const list = await this.client.list<T>(this.type, this.opts.namespace, {
      labelSelector: this.opts.labelSelector,
    });
    this.lists += 1;
    const seen = new Set<string>();
    for (const obj of list.items) {
      const key = objectKey(obj);
      seen.add(key);
      this.upsert(key, obj);
    }
    for (const [key, old] of [...this.store]) {
      if (!seen.has(key)) {
        this.store.delete(key);
        this.emit("delete", old);
      }
    }
    this.resourceVersion = list.metadata.resourceVersion;
    this.backoff.reset();
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  private async watchOnce(): Promise<void> {
    this.abort = new AbortController();
    // stop() may have run between the list and here; it sets `stopped` before aborting.
    if (this.stopped) return;
    let failure: KubeApiError | undefined;
    const timeout = this.opts.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300);
    await this.client
      .watch<T>(
        this.type,
        this.opts.namespace,
        {
          resourceVersion: this.resourceVersion,
          labelSelector: this.opts.labelSelector,
          timeoutSeconds: timeout,
          signal: this.abort.signal,
        },
        (event) => {
          if (failure) return;
          if (event.type === "ERROR") {
            const status = event.object as { code?: number; reason?: string; message?: string };
            failure = new KubeApiError(
              status.code ?? 500,
              status.reason ?? "WatchError",
              `watch ${this.type.plural}: ${status.message ?? "error event"}`,
            );
            this.abort?.abort();
            return;
          }
          const rv = event.object.metadata?.resourceVersion;
          if (rv) this.resourceVersion = rv;
          if (event.type === "BOOKMARK") return;
          const key = objectKey(event.object);
          if (event.type === "DELETED") {
            const old = this.store.get(key);
            this.store.delete(key);
            this.emit("delete", old ?? event.object);
          } else {
            this.upsert(key, event.object);
          }
        },
      )
      .catch((err) => {
        if (!failure) throw err;
      });
    if (failure) throw failure;
  }

  private upsert(key: string, obj: T): void {
    const old = this.store.get(key);
    this.store.set(key, obj);
    if (!old) this.emit("add", obj);
    else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) {
      this.emit("update", obj, old);
    }
  }

  private emit(kind: "add" | "update" | "delete", obj: T, old?: T): void {
    for (const h of this.handlers) {
      try {
        if (kind === "add") h.add?.(obj);
        else if (kind === "update") h.update?.(obj, old as T);
        else h.delete?.(obj);
      } catch (err) {
        this.log.error("informer handler failed", {
          resource: this.type.plural,
          error: String(err),
        });
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.abort = new AbortController();
      this.abort.signal.addEventListener("abort", () => {
        clearTimeout(t);
        resolve();
      });
      if (this.stopped) this.abort.abort();
    });
  }
}
