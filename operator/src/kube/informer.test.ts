import http from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { Informer } from "./informer.js";
import { KubeClient } from "./kube-client.js";
import { createLogger } from "./logger.js";
import { Resources } from "./resources.js";

// A real apiserver cannot be made to answer 410 Gone on demand (it needs an etcd compaction
// past the watch's resourceVersion), so this drives the informer through a scripted HTTP
// server speaking the list/watch protocol. Everything else is covered against the real
// apiserver in test/integration/operator.
type Script = (url: URL, res: http.ServerResponse) => void;

const cm = (name: string, rv: string) => ({
  metadata: { name, namespace: "ns", resourceVersion: rv },
});

let server: http.Server | undefined;
afterEach(() => server?.close());

async function serve(script: Script): Promise<KubeClient> {
  server = http.createServer((req, res) => script(new URL(req.url ?? "/", "http://x"), res));
  await new Promise<void>((r) => server?.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "c", server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: "u" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  return new KubeClient(kc);
}

const until = async (what: string, cond: () => boolean) => {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe("Informer", () => {
  it("relists after 410 Gone and reports objects deleted while it was not watching", async () => {
    let lists = 0;
    let watches = 0;
    const client = await serve((url, res) => {
      res.setHeader("content-type", "application/json");
      if (url.searchParams.get("watch") !== "true") {
        lists += 1;
        const items = lists === 1 ? [cm("a", "10"), cm("b", "11")] : [cm("a", "20")];
        res.end(
          JSON.stringify({ items, metadata: { resourceVersion: lists === 1 ? "11" : "20" } }),
        );
        return;
      }
      watches += 1;
      if (watches === 1) {
        expect(url.searchParams.get("resourceVersion")).toBe("11");
        res.write(`${JSON.stringify({ type: "MODIFIED", object: cm("a", "12") })}\n`);
        res.end(
          `${JSON.stringify({ type: "ERROR", object: { kind: "Status", code: 410, reason: "Expired", message: "too old resource version: 11 (19)" } })}\n`,
        );
        return;
      }
      // Later watches stay open until the informer stops.
      res.write("");
    });
    const events: string[] = [];
    const informer = new Informer(client, Resources.configMaps, createLogger("error"), {
      namespace: "ns",
    });
    informer.on({
      add: (o) => events.push(`add ${o.metadata?.name}`),
      update: (o) => events.push(`update ${o.metadata?.name}@${o.metadata?.resourceVersion}`),
      delete: (o) => events.push(`delete ${o.metadata?.name}`),
    });
    informer.start();
    await informer.waitForSync();
    await until("a relist after 410", () => informer.lists === 2 && watches >= 2);
    await informer.stop();
    expect(events).toEqual(["add a", "add b", "update a@12", "update a@20", "delete b"]);
    expect(informer.list().map((o) => o.metadata?.name)).toEqual(["a"]);
  });

  it("resumes the watch from the last resourceVersion when the stream ends, without relisting", async () => {
    const seen: Array<string | null> = [];
    const client = await serve((url, res) => {
      res.setHeader("content-type", "application/json");
      if (url.searchParams.get("watch") !== "true") {
        res.end(JSON.stringify({ items: [], metadata: { resourceVersion: "5" } }));
        return;
      }
      seen.push(url.searchParams.get("resourceVersion"));
      if (seen.length === 1) {
        res.write(`${JSON.stringify({ type: "ADDED", object: cm("x", "6") })}\n`);
        res.end(
          `${JSON.stringify({ type: "BOOKMARK", object: { metadata: { resourceVersion: "9" } } })}\n`,
        );
        return;
      }
      res.write("");
    });
    const informer = new Informer(client, Resources.configMaps, createLogger("error"), {
      namespace: "ns",
    });
    informer.start();
    await until("a second watch", () => seen.length >= 2);
    await informer.stop();
    expect(seen.slice(0, 2)).toEqual(["5", "9"]);
    expect(informer.lists).toBe(1);
    expect(informer.get("ns/x")?.metadata?.resourceVersion).toBe("6");
  });

  it("retries with backoff when the apiserver fails, then syncs", async () => {
    let calls = 0;
    const client = await serve((url, res) => {
      calls += 1;
      res.setHeader("content-type", "application/json");
      if (calls <= 2) {
        res.statusCode = 503;
        res.end(
          JSON.stringify({
            kind: "Status",
            code: 503,
            reason: "ServiceUnavailable",
            message: "etcd down",
          }),
        );
        return;
      }
      if (url.searchParams.get("watch") !== "true") {
        res.end(JSON.stringify({ items: [cm("y", "3")], metadata: { resourceVersion: "3" } }));
        return;
      }
      res.write("");
    });
    const informer = new Informer(client, Resources.configMaps, createLogger("error"), {
      namespace: "ns",
      backoffBaseMs: 5,
      backoffMaxMs: 20,
    });
    informer.start();
    await informer.waitForSync();
    await informer.stop();
    expect(calls).toBeGreaterThanOrEqual(3);
    expect(informer.get("ns/y")).toBeDefined();
  });
});
