// traffic.json from the model's ConfigMap, read through the Kubernetes API: list, then watch
// from the list's resourceVersion, so a weight change reaches the router as soon as the
// apiserver has it (a mounted ConfigMap takes up to a minute to sync). Both calls carry a
// metadata.name field selector: the router's Role grants get/list/watch on this one name only
// (resourceNames), and the apiserver authorises a list or watch against resourceNames only with
// that selector. The watch is reopened when it ends or fails (with backoff), and relisted on
// 410 Gone (the resourceVersion is too old to resume from).
import { CoreV1Api, type KubeConfig, type V1ConfigMap, Watch } from "@kubernetes/client-node";
import type { Logger } from "../logger.js";
import { TRAFFIC_KEY } from "./traffic-config.js";
import type { TrafficListener, TrafficSource } from "./traffic-source.js";

/** Timing of the watch loop. */
export interface WatchTiming {
  /** First delay after a failure; doubles per consecutive failure. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** The apiserver ends each watch after this long; a new one resumes where it stopped. */
  watchTimeoutSeconds: number;
  /** A watch silent this long (no event, no bookmark) sits on a dead connection: reopen it. */
  idleTimeoutMs: number;
}

const DEFAULT_TIMING: WatchTiming = {
  backoffBaseMs: 200,
  backoffMaxMs: 10_000,
  watchTimeoutSeconds: 300,
  idleTimeoutMs: 360_000,
};

/** The apiserver refused the request (status code from the API). */
class ApiStatusError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type WatchEvent = { type: string; object: V1ConfigMap & { code?: number; message?: string } };

/** Lists and watches one ConfigMap and reports its `traffic.json`. */
export class ConfigMapTrafficSource implements TrafficSource {
  readonly description: string;
  private readonly timing: WatchTiming;
  private readonly fieldSelector: string;
  private stopped = false;
  private abort: { abort(): void } | undefined;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private resourceVersion: string | undefined;
  /** Successful lists so far (a relist after 410 shows here). */
  lists = 0;

  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly namespace: string,
    private readonly name: string,
    private readonly logger: Logger,
    timing: Partial<WatchTiming> = {},
  ) {
    this.timing = { ...DEFAULT_TIMING, ...timing };
    this.fieldSelector = `metadata.name=${name}`;
    this.description = `ConfigMap ${namespace}/${name}`;
  }

  start(listener: TrafficListener): void {
    this.loop ??= this.run(listener);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    this.wake?.();
    await this.loop;
  }

  private async run(listener: TrafficListener): Promise<void> {
    const state: LoopState = { failures: 0, needList: true };
    while (!this.stopped) {
      try {
        await this.listAndWatch(listener, state);
      } catch (err) {
        if (this.stopped) break;
        await this.restartAfter(err, state);
      }
    }
  }

  /** A list when the last one failed or expired, then one watch. */
  private async listAndWatch(listener: TrafficListener, state: LoopState): Promise<void> {
    if (state.needList) {
      await this.list(listener);
      state.needList = false;
    }
    await this.watch(listener);
    state.failures = 0;
  }

  /** Says why the loop restarts and waits out the backoff (none when the version expired). */
  private async restartAfter(err: unknown, state: LoopState): Promise<void> {
    const gone = err instanceof ApiStatusError && err.status === 410;
    // A list that failed is retried; a watch that failed resumes from the last version seen.
    if (gone) state.needList = true;
    const delay = gone ? 0 : this.backoff(state.failures++);
    this.logger.warn("traffic ConfigMap watch restarting", {
      configMap: this.description,
      reason: gone ? "resourceVersion expired (410 Gone): relisting" : (err as Error).message,
      delayMs: delay,
    });
    await this.sleep(delay);
  }

  private backoff(failures: number): number {
    const ceiling = Math.min(
      this.timing.backoffMaxMs,
      this.timing.backoffBaseMs * 2 ** Math.min(failures, 20),
    );
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  private async list(listener: TrafficListener): Promise<void> {
    const api = this.kubeConfig.makeApiClient(CoreV1Api);
    let list: Awaited<ReturnType<typeof api.listNamespacedConfigMap>>;
    try {
      list = await api.listNamespacedConfigMap({
        namespace: this.namespace,
        fieldSelector: this.fieldSelector,
      });
    } catch (err) {
      const e = err as { code?: number; body?: unknown; message?: string };
      if (typeof e.code === "number") {
        throw new ApiStatusError(
          e.code,
          `list ${this.description}: HTTP ${e.code} ${apiMessage(e.body)}`,
        );
      }
      throw new Error(`list ${this.description}: ${e.message ?? String(err)}`);
    }
    this.lists += 1;
    this.resourceVersion = list.metadata?.resourceVersion;
    const item = list.items.find((cm) => cm.metadata?.name === this.name);
    this.report(listener, item);
  }

  private report(listener: TrafficListener, cm: V1ConfigMap | undefined): void {
    if (!cm) {
      listener.missing(`${this.description} does not exist`);
      return;
    }
    const text = cm.data?.[TRAFFIC_KEY];
    if (text === undefined) listener.missing(`${this.description} has no key ${TRAFFIC_KEY}`);
    else
      listener.text(text, `${this.description} (resourceVersion ${cm.metadata?.resourceVersion})`);
  }

  /** One watch call; resolves when the server ends it, rejects on failure. */
  private async watch(listener: TrafficListener): Promise<void> {
    if (this.stopped) return;
    // client-node hands out the stream's AbortController only once the response has begun;
    // an abort requested earlier (stop, idle, an ERROR event) is applied when it arrives.
    let controller: AbortController | undefined;
    let aborted = false;
    const abort = () => {
      aborted = true;
      controller?.abort();
    };
    this.abort = { abort };
    let failure: Error | undefined;
    let idle: NodeJS.Timeout | undefined;
    const touch = () => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        failure ??= new Error(`no event for ${this.timing.idleTimeoutMs} ms`);
        abort();
      }, this.timing.idleTimeoutMs);
    };
    await new Promise<void>((resolve, reject) => {
      const finish = (err?: Error) => {
        clearTimeout(idle);
        if (err && !this.stopped) reject(err);
        else resolve();
      };
      touch();
      new Watch(this.kubeConfig)
        .watch(
          `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/configmaps`,
          {
            fieldSelector: this.fieldSelector,
            resourceVersion: this.resourceVersion,
            allowWatchBookmarks: true,
            timeoutSeconds: this.timing.watchTimeoutSeconds,
          },
          (type: string, object: WatchEvent["object"]) => {
            if (failure || this.stopped) return;
            touch();
            failure = this.applyEvent(listener, type, object);
            if (failure) abort();
          },
          (err: unknown) => {
            if (failure) return finish(failure);
            if (!err || this.stopped) return finish();
            const e = err as { statusCode?: number; message?: string };
            finish(
              typeof e.statusCode === "number"
                ? new ApiStatusError(
                    e.statusCode,
                    `watch ${this.description}: HTTP ${e.statusCode}`,
                  )
                : new Error(`watch ${this.description}: ${e.message ?? String(err)}`),
            );
          },
        )
        .then(
          (c) => {
            controller = c;
            if (aborted) c.abort();
          },
          (err: unknown) => finish(err instanceof Error ? err : new Error(String(err))),
        );
    });
  }

  /** Applies one watch event; an ERROR event comes back as the failure that ends the watch. */
  private applyEvent(
    listener: TrafficListener,
    type: string,
    object: WatchEvent["object"],
  ): ApiStatusError | undefined {
    if (type === "ERROR") {
      const code = object.code ?? 500;
      return new ApiStatusError(
        code,
        `watch ${this.description}: ${object.message ?? `error ${code}`}`,
      );
    }
    const rv = object.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
    if (type === "DELETED") listener.missing(`${this.description} was deleted`);
    else if (type !== "BOOKMARK") this.report(listener, object);
    return undefined;
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}

/** What the list+watch loop carries from one pass to the next. */
interface LoopState {
  failures: number;
  needList: boolean;
}

function apiMessage(body: unknown): string {
  if (typeof body === "string") {
    try {
      return (JSON.parse(body) as { message?: string }).message ?? body.slice(0, 200);
    } catch {
      return body.slice(0, 200);
    }
  }
  return (body as { message?: string } | undefined)?.message ?? "";
}
