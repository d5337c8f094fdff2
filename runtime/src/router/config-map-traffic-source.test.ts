// The ConfigMap source against an apiserver stand-in over real HTTP: the list and watch
// requests it makes (always with the name field selector its Role requires), and how it
// resumes after the stream ends, relists after 410 Gone, and retries a refused list.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../logger.js";
import { ConfigMapTrafficSource } from "./config-map-traffic-source.js";
import type { TrafficListener } from "./traffic-source.js";

const NS = "team-a";
const NAME = "bank-traffic";

/** Serves one namespace's ConfigMaps list and watch, and records every request. */
async function fakeApiserver() {
  let rv = 100;
  let cm: { metadata: Record<string, string>; data?: Record<string, string> } | undefined;
  const requests: { watch: boolean; query: URLSearchParams }[] = [];
  const watches: ServerResponse[] = [];
  let refuseLists = 0;
  const requestWaiters: (() => void)[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname !== `/api/v1/namespaces/${NS}/configmaps`) {
      res.writeHead(404).end();
      return;
    }
    const watch = url.searchParams.get("watch") === "true";
    requests.push({ watch, query: url.searchParams });
    for (const w of requestWaiters.splice(0)) w();
    if (!watch) {
      if (refuseLists > 0) {
        refuseLists--;
        res.writeHead(403, { "content-type": "application/json" });
        res.end(JSON.stringify({ kind: "Status", code: 403, message: "configmaps is forbidden" }));
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          kind: "ConfigMapList",
          apiVersion: "v1",
          metadata: { resourceVersion: String(rv) },
          items: cm ? [cm] : [],
        }),
      );
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.flushHeaders();
    watches.push(res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const send = (event: unknown) => {
    for (const w of watches) w.write(`${JSON.stringify(event)}\n`);
  };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    /** Resolves once `count` requests have arrived in total. */
    requestCount(count: number): Promise<void> {
      return requests.length >= count
        ? Promise.resolve()
        : new Promise((resolve) => {
            const check = () => (requests.length >= count ? resolve() : requestWaiters.push(check));
            requestWaiters.push(check);
          });
    },
    set(text: string | undefined, type: "ADDED" | "MODIFIED" | "DELETED" | null) {
      rv++;
      cm = {
        metadata: { name: NAME, namespace: NS, resourceVersion: String(rv) },
        ...(text === undefined ? {} : { data: { "traffic.json": text } }),
      };
      if (type) send({ type, object: cm });
      if (type === "DELETED") cm = undefined;
    },
    refuseLists(n: number) {
      refuseLists = n;
    },
    gone() {
      send({
        type: "ERROR",
        object: { kind: "Status", code: 410, reason: "Expired", message: "too old" },
      });
    },
    endWatches() {
      for (const w of watches.splice(0)) w.end();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const w of watches.splice(0)) w.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function kubeConfigFor(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "c", server, skipTLSVerify: true }],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  return kc;
}

/** A listener whose reports can be awaited. */
function reports() {
  const seen: string[] = [];
  const waiters: (() => void)[] = [];
  const push = (r: string) => {
    seen.push(r);
    for (const w of waiters.splice(0)) w();
  };
  const listener: TrafficListener = {
    text: (text) => push(`text:${text}`),
    missing: (reason) => push(`missing:${reason}`),
  };
  const next = (count: number) =>
    new Promise<string>((resolve) => {
      const check = () =>
        seen.length >= count ? resolve(seen[count - 1] as string) : waiters.push(check);
      check();
    });
  return { seen, listener, next };
}

const timing = { backoffBaseMs: 5, backoffMaxMs: 20 };
let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

/** A source started on the stand-in apiserver (both stopped after the test); its reports. */
function watching(api: Awaited<ReturnType<typeof fakeApiserver>>, logger = createLogger("silent")) {
  const source = new ConfigMapTrafficSource(kubeConfigFor(api.url), NS, NAME, logger, timing);
  cleanup.push(api.close, () => source.stop());
  const r = reports();
  source.start(r.listener);
  return { ...r, source };
}

describe("ConfigMapTrafficSource", () => {
  it("lists then watches the one ConfigMap by name, and reports every change", async () => {
    const api = await fakeApiserver();
    api.set('{"v":1}', null);
    const r = watching(api);
    expect(await r.next(1)).toBe('text:{"v":1}');
    await api.requestCount(2);
    const [list, watch] = api.requests;
    expect(list?.watch).toBe(false);
    expect(list?.query.get("fieldSelector")).toBe(`metadata.name=${NAME}`);
    expect(watch?.watch).toBe(true);
    expect(watch?.query.get("fieldSelector")).toBe(`metadata.name=${NAME}`);
    expect(watch?.query.get("resourceVersion")).toBe("101");

    api.set('{"v":2}', "MODIFIED");
    expect(await r.next(2)).toBe('text:{"v":2}');
    api.set(undefined, "MODIFIED");
    expect(await r.next(3)).toBe(`missing:ConfigMap ${NS}/${NAME} has no key traffic.json`);
    api.set('{"v":3}', "DELETED");
    expect(await r.next(4)).toBe(`missing:ConfigMap ${NS}/${NAME} was deleted`);
  });

  it("resumes from the last version when the stream ends, and relists on 410 Gone", async () => {
    const api = await fakeApiserver();
    api.set('{"v":1}', null);
    const r = watching(api);
    const source = r.source;
    await r.next(1);
    await api.requestCount(2);
    api.set('{"v":2}', "MODIFIED");
    await r.next(2);

    api.endWatches();
    await api.requestCount(3);
    const resumed = api.requests[2];
    expect(resumed?.watch).toBe(true);
    expect(resumed?.query.get("resourceVersion")).toBe("102");
    expect(source.lists).toBe(1);

    api.gone();
    await api.requestCount(5);
    expect(api.requests.slice(3).map((q) => q.watch)).toEqual([false, true]);
    expect(source.lists).toBe(2);
    expect(api.requests[3]?.query.get("fieldSelector")).toBe(`metadata.name=${NAME}`);
    // The relist reports the current content again (the router ignores it when unchanged).
    expect(await r.next(3)).toBe('text:{"v":2}');
  });

  it("retries a refused list with backoff, and reports a missing ConfigMap", async () => {
    const api = await fakeApiserver();
    api.refuseLists(2);
    const lines: Record<string, unknown>[] = [];
    const r = watching(
      api,
      createLogger("warn", (l) => lines.push(JSON.parse(l))),
    );
    expect(await r.next(1)).toBe(`missing:ConfigMap ${NS}/${NAME} does not exist`);
    expect(api.requests.slice(0, 3).map((q) => q.watch)).toEqual([false, false, false]);
    expect(lines.filter((l) => l.msg === "traffic ConfigMap watch restarting")).toHaveLength(2);
    expect(String(lines[0]?.reason)).toContain("HTTP 403 configmaps is forbidden");

    // The stand-in does not replay history: wait for the watch before creating the ConfigMap.
    await api.requestCount(4);
    api.set('{"v":1}', "ADDED");
    expect(await r.next(2)).toBe('text:{"v":1}');
  });
});
