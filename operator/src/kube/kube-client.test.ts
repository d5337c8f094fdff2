import http from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { KubeApiError } from "./kube-api-error.js";
import { KubeClient } from "./kube-client.js";
import { Resources } from "./resources.js";

// Wire-level behaviour that a healthy apiserver never shows (silence, cut connections); the
// real apiserver covers the rest in test/integration/operator.
let server: http.Server | undefined;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
});

async function serve(
  handler: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void,
  idleMs?: number,
): Promise<KubeClient> {
  server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => handler(req, res, body));
  });
  await new Promise<void>((r) => server?.listen(0, "127.0.0.1", r));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: "c",
        server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        skipTLSVerify: true,
      },
    ],
    users: [{ name: "u" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  return new KubeClient(kc, idleMs);
}

describe("KubeClient", () => {
  it("server-side applies with the apply content type, field manager and force", async () => {
    let seen: { method?: string; url?: string; type?: string; body?: string } = {};
    const client = await serve((req, res, body) => {
      seen = { method: req.method, url: req.url, type: req.headers["content-type"], body };
      res.end(body);
    });
    await client.apply(
      Resources.configMaps,
      { metadata: { name: "a", namespace: "ns" } },
      { fieldManager: "me", force: true, subresource: "status" },
    );
    expect(seen.method).toBe("PATCH");
    expect(seen.url).toBe("/api/v1/namespaces/ns/configmaps/a/status?fieldManager=me&force=true");
    expect(seen.type).toBe("application/apply-patch+yaml");
    expect(JSON.parse(seen.body ?? "{}")).toMatchObject({ apiVersion: "v1", kind: "ConfigMap" });
  });

  it("maps Status answers to KubeApiError, and 404 on get to undefined", async () => {
    const client = await serve((req, res) => {
      res.statusCode = req.method === "GET" ? 404 : 409;
      res.end(
        JSON.stringify({
          kind: "Status",
          reason: req.method === "GET" ? "NotFound" : "Conflict",
          message: "nope",
        }),
      );
    });
    expect(await client.get(Resources.pods, "ns", "x")).toBeUndefined();
    const err = await client
      .create(Resources.pods, { metadata: { name: "x", namespace: "ns" } })
      .catch((e) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect([err.statusCode, err.reason, err.conflict]).toEqual([409, "Conflict", true]);
    expect(err.message).toContain("nope");
  });

  it("gives up on a silent apiserver instead of hanging a reconcile", async () => {
    const client = await serve(() => {}, 200);
    const err = await client.get(Resources.pods, "ns", "x").catch((e) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err.transient).toBe(true);
    expect(err.message).toMatch(/silent for 200 ms/);
  });

  it("fails a request whose answer is cut off", async () => {
    const client = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": "100" });
      res.write('{"items": [');
      res.destroy();
    });
    const err = await client.list(Resources.pods, "ns").catch((e) => e);
    expect(err).toBeInstanceOf(KubeApiError);
  });
});
