import http from "node:http";
import https from "node:https";
import { createInterface } from "node:readline";
import type { KubeConfig } from "@kubernetes/client-node";
import { KubeApiError } from "./kube-api-error.js";
import type { KubeList, KubeObject, WatchEvent } from "./kube-object.js";
import { apiVersionOf, type ResourceType, resourcePath } from "./resource-type.js";

type Query = Record<string, string | number | boolean | undefined>;

interface RequestOptions {
  query?: Query;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  /** Give up when the connection is silent this long (no answer, or a stalled stream). */
  idleTimeoutMs?: number;
}

/** A plain request gets no answer for this long: the apiserver or the network is gone. */
const REQUEST_IDLE_TIMEOUT_MS = 30_000;

/** Options of a server-side apply. */
export interface ApplyOptions {
  fieldManager: string;
  /** Take ownership of fields another manager set (the controller pattern: our intent wins). */
  force?: boolean;
  /** "status" to apply to the status subresource. */
  subresource?: string;
}

/** Options of a list call. */
export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  limit?: number;
}

/** Options of a watch call. */
export interface WatchOptions {
  resourceVersion?: string;
  labelSelector?: string;
  fieldSelector?: string;
  timeoutSeconds?: number;
  signal?: AbortSignal;
}

/**
 * A thin client for the Kubernetes REST API over node:http(s), authenticated from a KubeConfig.
 * It speaks JSON, maps error Status answers to KubeApiError, and does server-side apply
 * (including on the status subresource, which client-node's generic object API cannot).
 */
export class KubeClient {
  private readonly server: URL;

  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly requestIdleTimeoutMs = REQUEST_IDLE_TIMEOUT_MS,
  ) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error("kubeconfig has no current cluster");
    this.server = new URL(cluster.server);
  }

  /** GETs one object; undefined when it does not exist. */
  async get<T extends KubeObject>(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
  ): Promise<T | undefined> {
    try {
      return await this.request<T>("GET", resourcePath(type, namespace, name));
    } catch (err) {
      if (err instanceof KubeApiError && err.notFound) return undefined;
      throw err;
    }
  }

  /** Lists objects, following `continue` tokens until the whole collection is read. */
  async list<T extends KubeObject>(
    type: ResourceType,
    namespace?: string,
    opts: ListOptions = {},
  ): Promise<KubeList<T>> {
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const page = await this.request<KubeList<T>>("GET", resourcePath(type, namespace), {
        query: {
          labelSelector: opts.labelSelector,
          fieldSelector: opts.fieldSelector,
          resourceVersion: cont ? undefined : opts.resourceVersion,
          limit: opts.limit ?? 500,
          continue: cont,
        },
      });
      for (const item of page.items ?? []) {
        // List items omit apiVersion/kind; restore them so callers can treat items as objects.
        items.push({ apiVersion: apiVersionOf(type), kind: type.kind, ...item });
      }
      cont = page.metadata?.continue || undefined;
      resourceVersion = page.metadata?.resourceVersion;
    } while (cont);
    return { items, metadata: { resourceVersion } };
  }

  /** Creates an object; the object must carry metadata.namespace when namespaced. */
  async create<T extends KubeObject>(
    type: ResourceType,
    obj: T,
    fieldManager?: string,
  ): Promise<T> {
    return this.request<T>("POST", resourcePath(type, obj.metadata?.namespace), {
      body: obj,
      query: { fieldManager },
    });
  }

  /** Replaces an object (PUT); metadata.resourceVersion makes it a compare-and-swap. */
  async replace<T extends KubeObject>(
    type: ResourceType,
    obj: T,
    fieldManager?: string,
  ): Promise<T> {
    const name = obj.metadata?.name;
    if (!name) throw new Error(`replace ${type.kind}: metadata.name is required`);
    return this.request<T>("PUT", resourcePath(type, obj.metadata?.namespace, name), {
      body: obj,
      query: { fieldManager },
    });
  }

  /** Server-side applies `obj` (a complete statement of the fields this manager owns). */
  async apply<T extends KubeObject>(type: ResourceType, obj: T, opts: ApplyOptions): Promise<T> {
    const name = obj.metadata?.name;
    if (!name) throw new Error(`apply ${type.kind}: metadata.name is required`);
    const body = { apiVersion: apiVersionOf(type), kind: type.kind, ...obj };
    return this.request<T>(
      "PATCH",
      resourcePath(type, obj.metadata?.namespace, name, opts.subresource),
      {
        body,
        // JSON is valid YAML, so the apply content type accepts a JSON body.
        contentType: "application/apply-patch+yaml",
        query: { fieldManager: opts.fieldManager, force: opts.force ? true : undefined },
      },
    );
  }

  /** JSON merge-patches an object. */
  async mergePatch<T extends KubeObject>(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    subresource?: string,
  ): Promise<T> {
    return this.request<T>("PATCH", resourcePath(type, namespace, name, subresource), {
      body: patch,
      contentType: "application/merge-patch+json",
    });
  }

  /** Deletes an object; resolves false when it was already gone. */
  async delete(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    propagationPolicy: "Background" | "Foreground" | "Orphan" = "Background",
  ): Promise<boolean> {
    try {
      await this.request("DELETE", resourcePath(type, namespace, name), {
        body: { kind: "DeleteOptions", apiVersion: "v1", propagationPolicy },
      });
      return true;
    } catch (err) {
      if (err instanceof KubeApiError && err.notFound) return false;
      throw err;
    }
  }

  /**
   * Opens a watch and calls `onEvent` per event until the server ends the stream, the signal
   * aborts, or the connection fails (the promise then rejects). ERROR events are delivered as
   * events; the caller decides (a 410 inside one means "relist").
   */
  async watch<T extends KubeObject>(
    type: ResourceType,
    namespace: string | undefined,
    opts: WatchOptions,
    onEvent: (event: WatchEvent<T>) => void,
  ): Promise<void> {
    const res = await this.open("GET", resourcePath(type, namespace), {
      query: {
        watch: true,
        allowWatchBookmarks: true,
        resourceVersion: opts.resourceVersion,
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
        timeoutSeconds: opts.timeoutSeconds,
      },
      signal: opts.signal,
      // The server ends a watch after timeoutSeconds and sends bookmarks meanwhile; a watch
      // silent well past that sits on a dead connection (a peer that vanished without a FIN).
      idleTimeoutMs: ((opts.timeoutSeconds ?? 300) + 60) * 1000,
    });
    if ((res.statusCode ?? 0) >= 300) throw await toError(res, "GET", type.plural);
    await new Promise<void>((resolve, reject) => {
      const lines = createInterface({ input: res, crlfDelay: Number.POSITIVE_INFINITY });
      let settled = false;
      // Every way a stream can end (server close, abort, reset, garbage) settles exactly once;
      // an abort by the caller is a normal end, everything else unexpected is an error.
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        lines.close();
        res.destroy();
        if (err && !opts.signal?.aborted) reject(err);
        else resolve();
      };
      lines.on("line", (line) => {
        if (settled || !line.trim()) return;
        let event: WatchEvent<T>;
        try {
          event = JSON.parse(line) as WatchEvent<T>;
        } catch {
          finish(new Error(`watch ${type.plural}: undecodable event: ${line.slice(0, 200)}`));
          return;
        }
        onEvent(event);
      });
      res.on("error", (err) => finish(err));
      res.on("end", () => finish());
      res.on("close", () =>
        finish(res.complete ? undefined : new Error(`watch ${type.plural}: connection closed`)),
      );
      opts.signal?.addEventListener("abort", () => finish(), { once: true });
    });
  }

  /** Performs one request and decodes the JSON answer, throwing KubeApiError on >= 300. */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.open(method, path, opts);
    const text = await readBody(res);
    if ((res.statusCode ?? 0) >= 300) throw errorFromBody(res.statusCode ?? 0, text, method, path);
    return (text ? JSON.parse(text) : {}) as T;
  }

  private async open(
    method: string,
    path: string,
    opts: RequestOptions,
  ): Promise<http.IncomingMessage> {
    const url = new URL(this.server.pathname.replace(/\/$/, "") + path, this.server);
    for (const [k, v] of Object.entries(opts.query ?? {})) {
      if (v !== undefined) url.searchParams.set(k, String(v));
    }
    const reqOpts: https.RequestOptions = { method, headers: { Accept: "application/json" } };
    await this.kubeConfig.applyToHTTPSOptions(reqOpts);
    const body = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    const headers = reqOpts.headers as Record<string, string | number>;
    if (body) {
      headers["Content-Type"] = opts.contentType ?? "application/json";
      headers["Content-Length"] = body.length;
    }
    const mod = url.protocol === "https:" ? https : http;
    if (url.protocol !== "https:") delete reqOpts.agent;
    return new Promise((resolve, reject) => {
      const req = mod.request(url, { ...reqOpts, signal: opts.signal }, resolve);
      req.on("error", (err) =>
        reject(new KubeApiError(0, "ConnectionError", `${method} ${path}: ${err.message}`)),
      );
      const idle = opts.idleTimeoutMs ?? this.requestIdleTimeoutMs;
      req.setTimeout(idle, () => req.destroy(new Error(`connection silent for ${idle} ms`)));
      if (body) req.write(body);
      req.end();
    });
  }
}

function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (c: Buffer) => chunks.push(c));
    res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    res.on("error", (err) => reject(new KubeApiError(0, "ConnectionError", err.message)));
    res.on("close", () => {
      if (!res.complete)
        reject(new KubeApiError(0, "ConnectionError", "connection closed mid-answer"));
    });
  });
}

async function toError(res: http.IncomingMessage, method: string, path: string) {
  return errorFromBody(res.statusCode ?? 0, await readBody(res), method, path);
}

function errorFromBody(code: number, text: string, method: string, path: string): KubeApiError {
  let status: { reason?: string; message?: string; details?: unknown } = {};
  try {
    status = JSON.parse(text);
  } catch {
    status = { message: text.slice(0, 500) };
  }
  const message = status.message || http.STATUS_CODES[code] || "request failed";
  return new KubeApiError(
    code,
    status.reason ?? "Unknown",
    `${method} ${path}: ${message}`,
    status.details,
  );
}
