// The router's gRPC front end to end: two real `serve` instances with their gRPC ports (the
// canary another calibration of the fixture, so its answers are told apart), the router following a traffic
// file that names both gRPC endpoints, and node's gRPC client with the vendored proto.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { typedInputs } from "../../test-support/grpc-infer-inputs.js";
import { headlessService, startTestClusterDns } from "../../test-support/test-cluster-dns.js";
import { metric, startReadyTestRouter } from "../../test-support/test-router.js";
import { startTestServer } from "../../test-support/test-server.js";
import {
  BANK_ISOTONIC,
  fixtureModel,
  trainedArtifact,
} from "../../test-support/trained-artifact.js";
import { loadInferenceService } from "../grpc/grpc-server.js";
import { createLogger } from "../logger.js";
import { parseTrafficConfig } from "./traffic-config.js";
import { variantOfKey } from "./variant-assignment.js";

const fixture = trainedArtifact();
const { card, completeRows: rows } = fixtureModel(fixture);
const ID = card.schema.idColumn as string;
const canaryFixture = trainedArtifact(BANK_ISOTONIC);
const CANARY_DIGEST = canaryFixture.digest;
const WEIGHT = 30;
const scratch = mkdtempSync(join(tmpdir(), "churn-grpc-router-"));

const infers = { method: "GRPC", route: "/v2/models/:name/infer", code: "200" };
let stable: Awaited<ReturnType<typeof startTestServer>>;
let canary: Awaited<ReturnType<typeof startTestServer>>;
let deadTarget: string;
const Service = loadInferenceService();

beforeAll(async () => {
  stable = await startTestServer(fixture.modelDir, { grpcPort: 0, maxBatch: 100 });
  canary = await startTestServer(canaryFixture.modelDir, { grpcPort: 0, maxBatch: 100 });
  // A port nobody listens on: connections to it are refused.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  deadTarget = `127.0.0.1:${port}`;
});
afterAll(async () => {
  await stable?.close();
  await canary?.close();
  rmSync(scratch, { recursive: true, force: true });
});

/**
 * A traffic file naming both versions' HTTP and gRPC endpoints (or, with `stableOnly`, the
 * stable's alone at that gRPC target), and a router following it.
 */
async function grpcRouter(canaryTarget?: string, stableOnly?: string) {
  const text = JSON.stringify({
    model: "bank",
    stable: {
      digest: fixture.digest,
      url: stable.url,
      grpcTarget: stableOnly ?? `127.0.0.1:${stable.grpc?.port}`,
    },
    canary: stableOnly
      ? null
      : {
          digest: CANARY_DIGEST,
          url: canary.url,
          grpcTarget: canaryTarget ?? `127.0.0.1:${canary.grpc?.port}`,
          weight: WEIGHT,
          mirrorPercent: 0,
        },
    stickyHeader: null,
  });
  const r = await startReadyTestRouter(scratch, text, createLogger("silent"), { grpcPort: 0 });
  const client = new Service(`127.0.0.1:${r.grpc?.port}`, grpc.credentials.createInsecure());
  return { r, client, config: parseTrafficConfig(text) };
}

type Reply = {
  error: grpc.ServiceError | null;
  value: Record<string, unknown> | undefined;
  variant: string | undefined;
  digest: string | undefined;
};
type Unary = (
  request: unknown,
  metadata: grpc.Metadata,
  callback: (error: grpc.ServiceError | null, value?: Record<string, unknown>) => void,
) => grpc.ClientUnaryCall;

/** Calls one method through the router; its answer and the variant the router says answered. */
function call(
  client: grpc.Client,
  method: string,
  request: unknown,
  metadata = new grpc.Metadata(),
) {
  return new Promise<Reply>((resolve) => {
    let head: grpc.Metadata | undefined;
    const f = (client as unknown as Record<string, Unary>)[method] as Unary;
    const c = f.call(client, request, metadata, (error, value) =>
      resolve({
        error,
        value,
        variant: head?.get("x-churn-variant")[0] as string | undefined,
        digest: head?.get("x-churn-model-digest")[0] as string | undefined,
      }),
    );
    c.on("metadata", (m) => {
      head = m;
    });
  });
}

/** A ModelInfer request for one customer: a reference row under id `id`. */
function infer(id: number) {
  const row = rows[id % rows.length] as Record<string, unknown>;
  return {
    model_name: card.name,
    inputs: [
      ...typedInputs(card, [row]),
      { name: ID, datatype: "INT64", shape: [1], contents: { int64_contents: [id] } },
    ],
  };
}

/** The probability output's bytes of a ModelInfer answer. */
function probability(value: Record<string, unknown> | undefined): Buffer | undefined {
  const outputs = (value?.outputs ?? []) as { name: string }[];
  const i = outputs.findIndex((o) => o.name === "probability");
  return (value?.raw_output_contents as Buffer[] | undefined)?.[i];
}

describe("the router's gRPC front", () => {
  it("answers the health and metadata calls from the stable", async () => {
    const { r, client } = await grpcRouter();
    try {
      expect((await call(client, "ServerLive", {})).value).toMatchObject({ live: true });
      expect((await call(client, "ServerReady", {})).value).toMatchObject({ ready: true });
      const ready = await call(client, "ModelReady", { name: card.name });
      expect(ready.value).toMatchObject({ ready: true });
      const meta = await call(client, "ModelMetadata", { name: card.name });
      expect(meta.value?.name).toBe(card.name);
      const missing = await call(client, "ModelMetadata", { name: "no-such-model" });
      expect(missing.error?.code).toBe(grpc.status.NOT_FOUND);
    } finally {
      client.close();
      await r.close();
    }
  });

  it("splits customers by the weight, keeps each on its variant, and counts them per variant", async () => {
    const { r, client, config } = await grpcRouter();
    try {
      const ids = Array.from({ length: 200 }, (_, i) => 2_000_000 + i);
      const first = await Promise.all(ids.map((id) => call(client, "ModelInfer", infer(id))));
      for (const [i, reply] of first.entries()) {
        expect(reply.error).toBeNull();
        // Exactly the HTTP front's assignment of this customer id.
        expect(reply.variant).toBe(variantOfKey(config, String(ids[i])));
        expect(reply.digest).toBe(reply.variant === "canary" ? CANARY_DIGEST : fixture.digest);
      }
      const onCanary = first.filter((a) => a.variant === "canary").length;
      expect(onCanary).toBeGreaterThan(0);
      expect(onCanary).toBeLessThan(ids.length);
      // The model that scored is the one named: its answer is the canary's own, not the stable's.
      const one = ids.findIndex((_, i) => first[i]?.variant === "canary");
      const other = ids.findIndex((_, i) => first[i]?.variant === "stable");
      const id = ids[one] as number;
      const direct = (port: number | undefined) => {
        const c = new Service(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
        return call(c, "ModelInfer", infer(id)).finally(() => c.close());
      };
      const [fromCanary, fromStable] = [
        await direct(canary.grpc?.port),
        await direct(stable.grpc?.port),
      ];
      expect(probability(first[one]?.value)).toEqual(probability(fromCanary.value));
      expect(probability(first[one]?.value)).not.toEqual(probability(fromStable.value));

      // Sticky: the same customers, asked again, get the same variant.
      for (const i of [one, other]) {
        for (let n = 0; n < 5; n++) {
          expect((await call(client, "ModelInfer", infer(ids[i] as number))).variant).toBe(
            first[i]?.variant,
          );
        }
      }
      const canaryCalls = onCanary + 5;
      expect(
        await metric(r.url, "churn_router_requests_total", { variant: "canary", code: "200" }),
      ).toBe(canaryCalls);
      expect(
        await metric(r.url, "churn_router_requests_total", { variant: "stable", code: "200" }),
      ).toBe(ids.length + 10 - canaryCalls);
      expect(
        await metric(r.url, "churn_router_request_duration_seconds_count", { variant: "canary" }),
      ).toBe(canaryCalls);
      // Each serving pod counts the calls it answered where canary analysis reads them (the
      // REST route's template, method GRPC), plus the one direct call above.
      expect(await metric(canary.url, "http_requests_total", infers)).toBe(canaryCalls + 1);
      expect(await metric(stable.url, "http_requests_total", infers)).toBe(
        ids.length + 10 - canaryCalls + 1,
      );
    } finally {
      client.close();
      await r.close();
    }
  });

  it("falls back to the stable when the canary cannot be reached, and counts it", async () => {
    const { r, client, config } = await grpcRouter(deadTarget);
    try {
      const ids = Array.from({ length: 40 }, (_, i) => 3_000_000 + i);
      const toCanary = ids.filter((id) => variantOfKey(config, String(id)) === "canary");
      expect(toCanary.length).toBeGreaterThan(0);
      for (const id of toCanary) {
        const reply = await call(client, "ModelInfer", infer(id));
        expect(reply.error).toBeNull();
        expect(reply.variant).toBe("stable");
      }
      expect(await metric(r.url, "churn_router_fallbacks_total", {})).toBe(toCanary.length);
    } finally {
      client.close();
      await r.close();
    }
  });

  it("refuses an unknown forced variant as INVALID_ARGUMENT, counted as the router's own", async () => {
    const { r, client } = await grpcRouter();
    try {
      const forced = new grpc.Metadata();
      forced.set("x-churn-variant", "blue");
      const reply = await call(client, "ModelInfer", infer(1), forced);
      expect(reply.error?.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(reply.error?.details).toContain("must be stable or canary");
      expect(
        await metric(r.url, "churn_router_requests_total", { variant: "none", code: "400" }),
      ).toBe(1);
    } finally {
      client.close();
      await r.close();
    }
  });
});

describe("the router's gRPC over a version's pods (its headless Service's name)", () => {
  // Three serving pods of one version on 127.0.0.1-3 (one port, as pods share the container
  // port), and cluster DNS answering the version's headless Service with its ready pods.
  const addresses = ["127.0.0.1", "127.0.0.2", "127.0.0.3"];
  const ready = new Map<string, boolean>();
  const pods = new Map<string, Awaited<ReturnType<typeof startTestServer>>>();
  const NAME = "bank-aaaaaaaaaa-pods.team-a.svc.cluster.local";
  let dns: Awaited<ReturnType<typeof startTestClusterDns>>;
  let port: number;

  beforeAll(async () => {
    dns = await startTestClusterDns(() => headlessService("team-a", "bank-aaaaaaaaaa-pods", ready));
    for (const host of addresses) {
      const pod = await startTestServer(fixture.modelDir, { host, grpcPort: port ?? 0 });
      port ??= pod.grpc?.port as number;
      pods.set(host, pod);
    }
  });
  afterAll(async () => {
    await Promise.all([...pods.values()].map((p) => p.close()));
    await dns?.close();
  });

  /** ModelInfer calls answered by each pod since `before` (their own counters). */
  const answered = async (before = new Map<string, number>()) => {
    const counts = new Map<string, number>();
    for (const [host, pod] of pods)
      counts.set(
        host,
        (await metric(pod.url, "http_requests_total", infers)) - (before.get(host) ?? 0),
      );
    return counts;
  };
  /** `n` ModelInfer calls through the router, `concurrency` at a time; the failures. */
  const calls = async (client: grpc.Client, n: number, concurrency = 10) => {
    const failures: string[] = [];
    for (let i = 0; i < n; i += concurrency) {
      const replies = await Promise.all(
        Array.from({ length: Math.min(concurrency, n - i) }, (_, k) =>
          call(client, "ModelInfer", infer(i + k)),
        ),
      );
      for (const r of replies) if (r.error) failures.push(`${r.error.code} ${r.error.details}`);
    }
    return failures;
  };

  /** Calls `step` until `done()` holds; fails saying `what` after `ms`. */
  const until = async (
    done: () => Promise<boolean>,
    what: string,
    step: () => Promise<unknown>,
  ) => {
    const deadline = Date.now() + 15_000;
    while (!(await done())) {
      if (Date.now() > deadline) throw new Error(`${what} within 15 s`);
      await step();
    }
  };
  /** `n` calls through the router, none failing: how many each pod answered. */
  const spread = async (client: grpc.Client, n: number) => {
    const before = await answered();
    expect(await calls(client, n)).toEqual([]);
    return answered(before);
  };
  const pause = () => new Promise((resolve) => setTimeout(resolve, 5));

  it("spreads calls over every ready pod, takes a pod that turns ready, and loses none when one goes", async () => {
    ready.set("127.0.0.1", true).set("127.0.0.2", true).set("127.0.0.3", false);
    const { r, client } = await grpcRouter(undefined, `dns://${dns.server}/${NAME}:${port}`);
    try {
      // Two ready pods: each answers a fair share of 300 calls, the unready one none.
      let counts = await spread(client, 300);
      expect(counts.get("127.0.0.3")).toBe(0);
      for (const host of ["127.0.0.1", "127.0.0.2"]) expect(counts.get(host)).toBeGreaterThan(120);

      // The third turns ready: with every connection healthy, only a periodic look-up finds it.
      ready.set("127.0.0.3", true);
      const before = await answered();
      const third = async () => ((await answered(before)).get("127.0.0.3") ?? 0) > 0;
      await until(third, "the pod turned ready got no call", () => calls(client, 10));
      counts = await spread(client, 300);
      console.log("calls per pod", Object.fromEntries(counts));
      for (const host of addresses) expect(counts.get(host)).toBeGreaterThan(80);

      // One goes as Kubernetes takes a pod away, out of the endpoints and shut down, once it
      // has answered some of a stream of calls. None fails; the two others answer the rest.
      const going = pods.get("127.0.0.1") as Awaited<ReturnType<typeof startTestServer>>;
      const start = await answered();
      const during = calls(client, 600);
      const answering = async () =>
        (await metric(going.url, "http_requests_total", infers)) >=
        (start.get("127.0.0.1") ?? 0) + 20;
      await until(answering, "the pod answered nothing", pause);
      ready.delete("127.0.0.1");
      pods.delete("127.0.0.1");
      await going.close();
      expect(await during).toEqual([]);
      counts = await answered(start);
      console.log("calls per pod while 127.0.0.1 went", Object.fromEntries(counts));
      const rest = (counts.get("127.0.0.2") ?? 0) + (counts.get("127.0.0.3") ?? 0);
      expect(rest).toBeLessThanOrEqual(600 - 20);
      for (const host of ["127.0.0.2", "127.0.0.3"]) expect(counts.get(host)).toBeGreaterThan(150);
    } finally {
      client.close();
      await r.close();
    }
  });

  it("keeps calling the pods it has while their name answers no address", async () => {
    ready.set("127.0.0.2", true).set("127.0.0.3", true);
    const { r, client } = await grpcRouter(undefined, `dns://${dns.server}/${NAME}:${port}`);
    try {
      expect(await calls(client, 20)).toEqual([]);
      // No endpoint listed (a moment of the EndpointSlice, or DNS) for a few of the router's
      // look-ups: a failed resolution, which must not drop the pods that answer.
      const saved = new Map(ready);
      ready.clear();
      const asked = dns.queries;
      await until(async () => dns.queries >= asked + 4, "no look-up", pause);
      const counts = await spread(client, 200);
      expect(counts.get("127.0.0.2")).toBeGreaterThan(60);
      expect(counts.get("127.0.0.3")).toBeGreaterThan(60);
      for (const [ip, isReady] of saved) ready.set(ip, isReady);
    } finally {
      client.close();
      await r.close();
    }
  });
});
