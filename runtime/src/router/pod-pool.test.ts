// The router's HTTP over a version's pods: three real serving runtimes on 127.0.0.1-3 (one
// port, as pods share the container port) behind the local cluster's DNS logic answering the
// version's headless Service, and a fourth runtime standing for its ClusterIP Service.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { headlessService, startTestClusterDns } from "../../test-support/test-cluster-dns.js";
import { metric, startReadyTestRouter } from "../../test-support/test-router.js";
import { post, startTestServer } from "../../test-support/test-server.js";
import { fixtureModel, trainedArtifact } from "../../test-support/trained-artifact.js";
import { createLogger } from "../logger.js";
import type { RunningRouter } from "./router-server.js";

const fixture = trainedArtifact();
const { reference } = fixtureModel(fixture);
const scratch = mkdtempSync(join(tmpdir(), "churn-pod-pool-"));
const scores = { method: "POST", route: "/v1/score", code: "200" };
const NAME = "bank-aaaaaaaaaa-pods.team-a.svc.cluster.local";
const addresses = ["127.0.0.1", "127.0.0.2", "127.0.0.3"];

type Server = Awaited<ReturnType<typeof startTestServer>>;
const ready = new Map<string, boolean>();
const pods = new Map<string, Server>();
/** False: DNS answers NXDOMAIN for the name (a failed lookup). */
let named = true;
let service: Server;
let dns: Awaited<ReturnType<typeof startTestClusterDns>>;
let port: number;

beforeAll(async () => {
  dns = await startTestClusterDns(() =>
    named ? headlessService("team-a", "bank-aaaaaaaaaa-pods", ready) : { services: [], slices: [] },
  );
  for (const host of addresses) {
    const pod = await startTestServer(fixture.modelDir, { host, port: port ?? 0 });
    port ??= Number(new URL(pod.url).port);
    pods.set(host, pod);
  }
  service = await startTestServer(fixture.modelDir);
});
afterAll(async () => {
  await Promise.all([...pods.values(), service].map((p) => p?.close()));
  await dns?.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** A router whose stable is the ClusterIP stand-in, its pods named by the test's DNS. */
async function podsRouter(): Promise<RunningRouter> {
  const text = JSON.stringify({
    model: "bank",
    stable: {
      digest: fixture.digest,
      url: service.url,
      httpTarget: `dns://${dns.server}/${NAME}:${port}`,
    },
    canary: null,
    stickyHeader: null,
  });
  return startReadyTestRouter(scratch, text, createLogger("silent"));
}

/** Score requests answered by each pod (and the Service stand-in, as "service") since `before`. */
const answered = async (before = new Map<string, number>()) => {
  const counts = new Map<string, number>();
  for (const [host, s] of [...pods, ["service", service] as const])
    counts.set(
      host,
      (await metric(s.url, "http_requests_total", scores)) - (before.get(host) ?? 0),
    );
  return counts;
};

/** `n` score requests through the router, `concurrency` at a time; the failures. */
const requests = async (r: RunningRouter, n: number, concurrency = 1) => {
  const failures: string[] = [];
  let i = 0;
  const worker = async () => {
    while (i < n) {
      const k = i++;
      const row = reference.rows[k % reference.rows.length];
      const res = await post(`${r.url}/v1/score`, { instances: [row] });
      if (res.status !== 200) failures.push(`${res.status} ${JSON.stringify(res.body)}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return failures;
};

/** Waits until `done()` holds; fails saying `what` after 15 s. */
const until = async (done: () => boolean | Promise<boolean>, what: string) => {
  const deadline = Date.now() + 15_000;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`${what} within 15 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

/** The pods the router sends the stable's requests to now. */
const podsOf = (r: RunningRouter) => r.upstreams.podsOf(service.url).sort();

describe("the router's HTTP over a version's pods (its headless Service's name)", () => {
  it("sends each request to a ready pod in turn, one request at a time", async () => {
    for (const host of addresses) ready.set(host, true);
    ready.set("127.0.0.3", false);
    const r = await podsRouter();
    try {
      await until(() => podsOf(r).length === 2, "the router did not learn the pods");
      let before = await answered();
      expect(await requests(r, 300)).toEqual([]);
      let counts = await answered(before);
      console.log("requests per pod, two ready", Object.fromEntries(counts));
      expect(counts.get("127.0.0.3")).toBe(0);
      expect(counts.get("service")).toBe(0);
      for (const host of ["127.0.0.1", "127.0.0.2"]) expect(counts.get(host)).toBeGreaterThan(120);

      // The third turns ready: the next look-up adds it, and each answers a fair share.
      ready.set("127.0.0.3", true);
      await until(() => podsOf(r).length === 3, "the pod turned ready was not added");
      before = await answered();
      expect(await requests(r, 300)).toEqual([]);
      counts = await answered(before);
      console.log("requests per pod, three ready", Object.fromEntries(counts));
      expect(counts.get("service")).toBe(0);
      for (const host of addresses) expect(counts.get(host)).toBeGreaterThan(75);
    } finally {
      await r.close();
    }
  });

  it("sends requests to the Service while the name answers no pod, and to the pods again after", async () => {
    for (const host of addresses) ready.set(host, true);
    const r = await podsRouter();
    /** `n` requests, two at a time, none failing: how many each answered. */
    const spread = async (n: number) => {
      const before = await answered();
      expect(await requests(r, n, 2)).toEqual([]);
      return answered(before);
    };
    try {
      await until(() => podsOf(r).length === 3, "the router did not learn the pods");
      // The look-up fails (NXDOMAIN): the router drops the pods, the Service takes every request.
      named = false;
      await until(() => podsOf(r).length === 0, "the router kept the pods of a failed look-up");
      expect((await spread(60)).get("service")).toBe(60);

      // The name answers no address (no ready pod): the same.
      named = true;
      for (const host of addresses) ready.set(host, false);
      const asked = dns.queries;
      await until(() => dns.queries >= asked + 4, "the router did not look the name up again");
      expect(podsOf(r)).toEqual([]);
      expect((await spread(60)).get("service")).toBe(60);

      // Pods ready again: they take the requests back, in turn.
      for (const host of addresses) ready.set(host, true);
      await until(() => podsOf(r).length === 3, "the router did not take the pods back");

      // The DNS server fails (SERVFAIL): a lookup that could not be made keeps the pods.
      dns.failing = true;
      const failed = dns.queries;
      await until(() => dns.queries >= failed + 4, "the router did not look the name up again");
      expect(podsOf(r)).toEqual([...addresses]);
      const meanwhile = await spread(60);
      dns.failing = false;
      expect(meanwhile.get("service")).toBe(0);

      // After NXDOMAIN again, the pods are taken back and share the requests in turn.
      named = false;
      await until(() => podsOf(r).length === 0, "the router kept the pods of a failed look-up");
      named = true;
      await until(() => podsOf(r).length === 3, "the router did not take the pods back");
      const counts = await spread(90);
      expect(counts.get("service")).toBe(0);
      for (const host of addresses) expect(counts.get(host)).toBeGreaterThan(20);
    } finally {
      named = true;
      dns.failing = false;
      await r.close();
    }
  });

  it("sends a pod that leaves the name nothing new, and a pod that goes fails no request", async () => {
    for (const host of addresses) ready.set(host, true);
    const r = await podsRouter();
    try {
      await until(() => podsOf(r).length === 3, "the router did not learn the pods");
      const start = await answered();
      // A stream of requests, four at a time, while pods go.
      let stop = false;
      const failures: string[] = [];
      const stream = (async () => {
        while (!stop) failures.push(...(await requests(r, 40, 4)));
      })();

      // 127.0.0.1 leaves the endpoints (not ready: draining), then shuts down, as Kubernetes
      // takes a pod away: once the router has dropped it, it gets no new request.
      await until(
        async () => ((await answered(start)).get("127.0.0.1") ?? 0) >= 20,
        "127.0.0.1 answered nothing",
      );
      ready.set("127.0.0.1", false);
      await until(() => !podsOf(r).includes("127.0.0.1"), "the router kept the pod gone");
      // Requests it already had may still finish (four at most in flight).
      const dropped = await answered(start);
      await until(
        async () =>
          ((await answered(start)).get("127.0.0.2") ?? 0) >= (dropped.get("127.0.0.2") ?? 0) + 100,
        "the others answered nothing after",
      );
      const after = await answered(start);
      expect((after.get("127.0.0.1") ?? 0) - (dropped.get("127.0.0.1") ?? 0)).toBeLessThanOrEqual(
        4,
      );
      await (pods.get("127.0.0.1") as Server).close();
      pods.delete("127.0.0.1");

      // 127.0.0.2 stops listening while still named (killed before its endpoint went): the
      // requests it refuses are sent to another pod, none fails, and it is passed over.
      const two = await answered(start);
      await (pods.get("127.0.0.2") as Server).close();
      pods.delete("127.0.0.2");
      await until(
        async () =>
          ((await answered(start)).get("127.0.0.3") ?? 0) >= (two.get("127.0.0.3") ?? 0) + 100,
        "127.0.0.3 did not take the requests",
      );
      stop = true;
      await stream;
      expect(failures).toEqual([]);
      // The refused requests were sent again (counted), not failed.
      expect(await metric(r.url, "churn_router_upstream_retries_total")).toBeGreaterThan(0);
      const counts = await answered(start);
      console.log("requests per pod while pods went", {
        "127.0.0.1 until dropped": dropped.get("127.0.0.1"),
        "127.0.0.1 in all": after.get("127.0.0.1"),
        "127.0.0.2 until it stopped": two.get("127.0.0.2"),
        ...Object.fromEntries(counts),
      });
      expect(counts.get("service")).toBe(0);
    } finally {
      await r.close();
    }
  });
});
