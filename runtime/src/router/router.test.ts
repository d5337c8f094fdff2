// The router end to end: two real `serve` instances on the trained fixture (the canary with a
// score-shift fault, so its answers are told apart and its decisions differ) and the router
// following a traffic file, everything over real HTTP on 127.0.0.1.
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metric, startTestRouter } from "../../test-support/test-router.js";
import { get, type JsonBody, post, startTestServer } from "../../test-support/test-server.js";
import { fixtureModel, trainedArtifact } from "../../test-support/trained-artifact.js";
import { ALLOW_TEST_FAULTS_ENV, TEST_FAULT_ENV } from "../http/test-fault.js";
import { createLogger } from "../logger.js";
import type { RunningRouter } from "./router-server.js";

const fixture = trainedArtifact();
const { card, reference } = fixtureModel(fixture);
const ID = card.schema.idColumn as string;
const SHIFT = 0.3;
// Both variants serve the fixture; the canary differs by its score shift. The config names it
// by another digest so the digest header can be checked against the variant that answered.
const CANARY_DIGEST = "c".repeat(64);
const scratch = mkdtempSync(join(tmpdir(), "churn-router-"));

let stable: Awaited<ReturnType<typeof startTestServer>>;
let canary: Awaited<ReturnType<typeof startTestServer>>;
let deadUrl: string;

beforeAll(async () => {
  stable = await startTestServer(fixture.modelDir, { maxBatch: 5000 });
  process.env[TEST_FAULT_ENV] = `score-shift=${SHIFT}`;
  process.env[ALLOW_TEST_FAULTS_ENV] = "true";
  try {
    canary = await startTestServer(fixture.modelDir, { maxBatch: 5000 });
  } finally {
    delete process.env[TEST_FAULT_ENV];
    delete process.env[ALLOW_TEST_FAULTS_ENV];
  }
  // A port nobody listens on: connections to it are refused.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  deadUrl = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});
afterAll(async () => {
  await stable?.close();
  await canary?.close();
  rmSync(scratch, { recursive: true, force: true });
});

interface Traffic {
  weight?: number;
  mirrorPercent?: number;
  canaryUrl?: string;
  noCanary?: boolean;
  stickyHeader?: string;
}

let files = 0;
/** A traffic file of its own for one router. */
function trafficFile() {
  const path = join(scratch, `traffic-${++files}.json`);
  return {
    path,
    /** Replaces the file atomically, as an operator-side writer should. */
    write(t: Traffic | string) {
      const text =
        typeof t === "string"
          ? t
          : JSON.stringify({
              model: "bank",
              stable: { digest: fixture.digest, url: stable.url },
              canary: t.noCanary
                ? null
                : {
                    digest: CANARY_DIGEST,
                    url: t.canaryUrl ?? canary.url,
                    weight: t.weight ?? 0,
                    mirrorPercent: t.mirrorPercent ?? 0,
                  },
              stickyHeader: t.stickyHeader ?? null,
            });
      writeFileSync(`${path}.tmp`, text);
      renameSync(`${path}.tmp`, path);
    },
  };
}

async function router(path: string, logs?: string[]): Promise<RunningRouter> {
  const logger = createLogger(logs ? "info" : "silent", (l) => logs?.push(l));
  return startTestRouter(path, logger);
}

/** Polls `check` until it holds (a condition, never a fixed sleep); fails after the deadline. */
async function until(check: () => Promise<boolean>, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const ready = (r: RunningRouter, weight?: number) =>
  until(
    async () => {
      const res = await get(`${r.url}/readyz`);
      return res.status === 200 && (weight === undefined || res.body.weight === weight);
    },
    `the router ready${weight === undefined ? "" : ` at weight ${weight}`}`,
  );

const row = (i: number) => ({ ...reference.rows[i % reference.rows.length], [ID]: 1_000_000 + i });

/** Scores one customer through the router; the variant and digest that answered. */
async function score(url: string, i: number, headers: Record<string, string> = {}) {
  const r = await post(
    `${url}/v1/score`,
    { instances: [row(i)] },
    { "content-type": "application/json", ...headers },
  );
  return {
    status: r.status,
    variant: r.headers.get("x-churn-variant"),
    digest: r.headers.get("x-churn-model-digest"),
    body: r.body as JsonBody,
  };
}

/** Runs `fn` over `items` with `n` requests in flight. */
async function inParallel<T, R>(items: T[], n: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T);
      }
    }),
  );
  return out;
}

describe("readiness", () => {
  it("is not Ready until a first valid config is loaded, then routes", async () => {
    const file = trafficFile();
    const r = await router(file.path);
    try {
      const before = await get(`${r.url}/readyz`);
      expect(before.status).toBe(503);
      expect(before.body.reason).toBe(
        `no valid traffic configuration yet: ${file.path} does not exist`,
      );
      const refused = await score(r.url, 1);
      expect(refused.status).toBe(503);
      expect(refused.body.error.code).toBe("not_ready");

      file.write('{"model": "bank"}');
      await until(
        async () => (await get(`${r.url}/readyz`)).body.reason?.includes("stable: is required"),
        "the malformed config to be reported",
      );
      expect((await get(`${r.url}/readyz`)).status).toBe(503);

      file.write({ weight: 0 });
      await ready(r);
      const answered = await score(r.url, 1);
      expect(answered.status).toBe(200);
      expect(answered.variant).toBe("stable");
      expect(answered.digest).toBe(fixture.digest);
      expect((await get(`${r.url}/healthz`)).body).toEqual({ status: "ok" });
    } finally {
      await r.close();
    }
  });
});

describe("exact, sticky weights", () => {
  it("gives the canary 10% of 10,000 customers within a point; nobody switches, even as the weight rises", async () => {
    const file = trafficFile();
    file.write({ weight: 10 });
    const r = await router(file.path);
    try {
      await ready(r, 10);
      const ids = Array.from({ length: 10_000 }, (_, i) => i);
      const first = await inParallel(ids, 32, (i) => score(r.url, i));
      expect(first.every((a) => a.status === 200)).toBe(true);
      const canaryIds = new Set(ids.filter((i) => first[i]?.variant === "canary"));
      expect(Math.abs((canaryIds.size / ids.length) * 100 - 10)).toBeLessThan(1);
      // The variant header, digest header and the answer itself agree.
      for (const a of first) {
        expect(a.digest).toBe(a.variant === "canary" ? CANARY_DIGEST : fixture.digest);
      }
      expect(
        await metric(r.url, "churn_router_requests_total", { variant: "canary", code: "200" }),
      ).toBe(canaryIds.size);

      // The same customers again: each keeps its variant.
      const sample = ids.filter((i) => i % 5 === 0);
      const again = await inParallel(sample, 32, (i) => score(r.url, i));
      expect(again.map((a) => a.variant)).toEqual(sample.map((i) => first[i]?.variant));

      // Raising the weight only moves customers from stable to canary (one hash threshold).
      file.write({ weight: 25 });
      await ready(r, 25);
      const after = await inParallel(sample, 32, (i) => score(r.url, i));
      const movedBack = sample.filter((i, k) => canaryIds.has(i) && after[k]?.variant !== "canary");
      expect(movedBack).toEqual([]);
      const share = after.filter((a) => a.variant === "canary").length / sample.length;
      expect(Math.abs(share * 100 - 25)).toBeLessThan(3);
    } finally {
      await r.close();
    }
  });

  it("keys on the configured sticky header when the request has it", async () => {
    const file = trafficFile();
    file.write({ weight: 50, stickyHeader: "X-Session" });
    const r = await router(file.path);
    try {
      await ready(r, 50);
      // One session, many customers: one variant.
      const answers = await inParallel(
        Array.from({ length: 40 }, (_, i) => i),
        8,
        (i) => score(r.url, i, { "x-session": "session-7" }),
      );
      expect(new Set(answers.map((a) => a.variant)).size).toBe(1);
    } finally {
      await r.close();
    }
  });

  it("keeps a customer on one variant over /v2 as over /v1 (tritonclient's JSON, binary tensor data)", async () => {
    const file = trafficFile();
    file.write({ weight: 50 });
    const r = await router(file.path);
    try {
      await ready(r, 50);
      /** One row as Open Inference Protocol tensors: strings BYTES, numbers FP64, the id INT64. */
      const inputs = (i: number) =>
        Object.entries(row(i)).map(([name, v]) => ({
          name,
          datatype: name === ID ? "INT64" : typeof v === "string" ? "BYTES" : "FP64",
          shape: [1],
          data: [v],
        }));
      const infer = `${r.url}/v2/models/${card.name}/infer`;
      const variants = await inParallel(
        Array.from({ length: 30 }, (_, i) => i),
        4,
        async (i) => {
          const json = JSON.stringify({ inputs: inputs(i) });
          // tritonclient sends JSON with no content type; the binary extension's JSON comes first.
          // (fetch sets text/plain for a string body, none for bytes)
          const plain = await fetch(infer, { method: "POST", body: Buffer.from(json) });
          const binary = await fetch(infer, {
            method: "POST",
            body: json,
            headers: {
              "content-type": "application/octet-stream",
              "inference-header-content-length": String(Buffer.byteLength(json)),
            },
          });
          await Promise.all([plain.text(), binary.text()]);
          expect([plain.status, binary.status]).toEqual([200, 200]);
          return [
            (await score(r.url, i)).variant,
            plain.headers.get("x-churn-variant"),
            binary.headers.get("x-churn-variant"),
          ];
        },
      );
      for (const [v1, v2, v2Binary] of variants) expect([v2, v2Binary]).toEqual([v1, v1]);
      expect(new Set(variants.map(([v1]) => v1)).size).toBe(2);
    } finally {
      await r.close();
    }
  });

  it("follows a forced variant, and refuses a bad or impossible one", async () => {
    const file = trafficFile();
    file.write({ weight: 0 });
    const r = await router(file.path);
    try {
      await ready(r, 0);
      const direct = await post(`${stable.url}/v1/score`, { instances: [row(3)] });
      const toCanary = await score(r.url, 3, { "x-churn-variant": "canary" });
      expect(toCanary.variant).toBe("canary");
      expect(toCanary.digest).toBe(CANARY_DIGEST);
      expect(toCanary.body.predictions[0].probability).toBeCloseTo(
        Math.min(1, direct.body.predictions[0].probability + SHIFT),
        12,
      );
      const toStable = await score(r.url, 3, { "x-churn-variant": "stable" });
      expect(toStable.variant).toBe("stable");
      expect(toStable.body.predictions).toEqual(direct.body.predictions);

      const bad = await score(r.url, 3, { "x-churn-variant": "blue" });
      expect(bad.status).toBe(400);
      expect(bad.body.error.message).toBe('x-churn-variant must be stable or canary, got "blue"');
      file.write({ noCanary: true });
      await until(async () => (await get(`${r.url}/readyz`)).body.canary === null, "no canary");
      const none = await score(r.url, 3, { "x-churn-variant": "canary" });
      expect(none.status).toBe(409);
    } finally {
      await r.close();
    }
  });

  it("keeps routing by the last good config when a malformed one arrives", async () => {
    const file = trafficFile();
    file.write({ weight: 100 });
    const logs: string[] = [];
    const r = await router(file.path, logs);
    try {
      await ready(r, 100);
      file.write({ weight: 101 });
      await until(
        async () =>
          (await metric(r.url, "churn_router_config_reloads_total", { result: "rejected" })) === 1,
        "the rejection to be counted",
      );
      const status = await get(`${r.url}/readyz`);
      expect(status.body).toMatchObject({
        ready: true,
        weight: 100,
        configProblem: "traffic.json: canary.weight: must be at most 100",
      });
      expect((await score(r.url, 5)).variant).toBe("canary");
      const line = logs
        .map((l) => JSON.parse(l))
        .find((l) => l.msg.startsWith("traffic config rejected"));
      expect(line).toMatchObject({ level: "warn", keeping: { weight: 100 } });
    } finally {
      await r.close();
    }
  });
});

describe("what is forwarded", () => {
  it("passes any /v1 and /v2 request through with the upstream's status, headers and body; answers its own routes itself", async () => {
    const file = trafficFile();
    file.write({ weight: 0 });
    const r = await router(file.path);
    try {
      await ready(r);
      const model = await get(`${r.url}/v1/model`);
      expect(model.status).toBe(200);
      expect(model.body.digest).toBe(fixture.digest);
      expect(model.headers.get("content-type")).toContain("application/json");
      expect(model.headers.get("x-churn-variant")).toBe("stable");

      const unknown = await get(`${r.url}/v1/nothing-here`);
      expect(unknown.status).toBe(404);
      expect(unknown.body.error.message).toBe("no route for GET /v1/nothing-here");
      expect(unknown.headers.get("x-churn-variant")).toBe("stable");
      expect(Number(unknown.headers.get("content-length"))).toBe(
        Buffer.byteLength(JSON.stringify(unknown.body)),
      );
      const head = await fetch(`${r.url}/v1/model`, { method: "HEAD" });
      expect(head.status).toBe(200);
      expect(head.headers.get("x-churn-variant")).toBe("stable");
      const invalid = await post(`${r.url}/v1/score`, { instances: [{ Age: "old" }] });
      expect(invalid.status).toBe(400);
      expect(invalid.body.error).toEqual(
        (await post(`${stable.url}/v1/score`, { instances: [{ Age: "old" }] })).body.error,
      );
      // /v2 goes to the model too, its errors in the Open Inference Protocol's shape.
      const live = await get(`${r.url}/v2/health/live`);
      expect(live.status).toBe(200);
      expect(live.body).toEqual({ live: true });
      expect(live.headers.get("x-churn-variant")).toBe("stable");
      const v2 = await get(`${r.url}/v2/models`);
      expect(v2.status).toBe(404);
      expect(v2.headers.get("x-churn-variant")).toBe("stable");
      expect(v2.body).toEqual({ error: "no route for GET /v2/models" });
      const mine = await post(
        `${r.url}/v1/score`,
        { instances: [row(1)] },
        { "content-type": "application/json", "x-request-id": "req-router-1" },
      );
      expect(mine.headers.get("x-request-id")).toBe("req-router-1");

      expect((await get(`${r.url}/elsewhere`)).status).toBe(404);
      const own = (await get(`${r.url}/metrics`)).body as string;
      expect(own).toContain("churn_router_requests_total");
      expect(own).not.toContain("http_requests_total");
      expect(
        await metric(r.url, "churn_router_requests_total", { variant: "stable", code: "400" }),
      ).toBe(1);
    } finally {
      await r.close();
    }
  });

  it("answers from the stable when the canary cannot be reached, and counts the fallbacks", async () => {
    const file = trafficFile();
    file.write({ weight: 100, canaryUrl: deadUrl });
    const r = await router(file.path);
    try {
      await ready(r, 100);
      const answers = await inParallel(
        Array.from({ length: 20 }, (_, i) => i),
        4,
        (i) => score(r.url, i),
      );
      for (const a of answers) {
        expect(a.status).toBe(200);
        expect(a.variant).toBe("stable");
        expect(a.digest).toBe(fixture.digest);
      }
      expect(await metric(r.url, "churn_router_fallbacks_total")).toBe(20);
      expect(
        await metric(r.url, "churn_router_requests_total", { variant: "stable", code: "200" }),
      ).toBe(20);
      expect(await metric(r.url, "churn_router_requests_total", { variant: "canary" })).toBe(0);
    } finally {
      await r.close();
    }
  });
});

describe("a caller that hangs up", () => {
  it("is counted as 499 (client closed), not as an upstream failure", async () => {
    process.env[TEST_FAULT_ENV] = "latency-ms=3000";
    process.env[ALLOW_TEST_FAULTS_ENV] = "true";
    let slow: Awaited<ReturnType<typeof startTestServer>>;
    try {
      slow = await startTestServer(fixture.modelDir);
    } finally {
      delete process.env[TEST_FAULT_ENV];
      delete process.env[ALLOW_TEST_FAULTS_ENV];
    }
    const file = trafficFile();
    writeFileSync(
      file.path,
      JSON.stringify({
        model: "bank",
        stable: { digest: fixture.digest, url: slow.url },
        canary: null,
        stickyHeader: null,
      }),
    );
    const r = await router(file.path);
    try {
      await ready(r);
      const caller = new AbortController();
      const call = fetch(`${r.url}/v1/score`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ instances: [row(1)] }),
        signal: caller.signal,
      });
      await until(
        async () => (await metric(r.url, "churn_router_requests_in_flight")) === 1,
        "the request to be in flight",
      );
      caller.abort();
      await expect(call).rejects.toThrow();
      await until(
        async () => (await metric(r.url, "churn_router_requests_total", { code: "499" })) === 1,
        "the hang-up to be counted",
      );
      expect(await metric(r.url, "churn_router_requests_total", { code: "502" })).toBe(0);
      expect(await metric(r.url, "churn_router_requests_in_flight")).toBe(0);
    } finally {
      await r.close();
      await slow.close();
    }
  });
});

describe("mirroring", () => {
  it("at 100% answers only from the stable and compares every row with the canary's answer", async () => {
    const file = trafficFile();
    file.write({ weight: 0, mirrorPercent: 100 });
    const r = await router(file.path);
    const canaryScored = await metric(canary.url, "http_requests_total", {
      route: "/v1/score",
      code: "200",
    });
    try {
      await ready(r, 0);
      const requests = 30;
      const perRequest = 5;
      const batches = Array.from({ length: requests }, (_, b) =>
        Array.from({ length: perRequest }, (_, k) => row(b * perRequest + k)),
      );
      const answers = await inParallel(batches, 6, (instances) =>
        post(`${r.url}/v1/score`, { instances }),
      );
      for (const [b, a] of answers.entries()) {
        expect(a.headers.get("x-churn-variant")).toBe("stable");
        const direct = await post(`${stable.url}/v1/score`, { instances: batches[b] });
        expect(a.body.predictions).toEqual(direct.body.predictions);
      }
      const rows = requests * perRequest;
      await until(
        async () => (await metric(r.url, "churn_router_mirror_comparisons_total")) === rows,
        `${rows} mirrored rows compared`,
      );
      // The shifted canary moves every probability (most by the full shift) and flips many decisions.
      const flips = await metric(r.url, "churn_router_mirror_decision_flips_total");
      expect(flips).toBeGreaterThan(0);
      expect(flips).toBeLessThanOrEqual(rows);
      expect(await metric(r.url, "churn_router_mirror_abs_diff_count")).toBe(rows);
      expect(await metric(r.url, "churn_router_mirror_abs_diff_sum")).toBeGreaterThan(0);
      expect(await metric(r.url, "churn_router_mirror_errors_total")).toBe(0);
      // The copies reached the canary; the callers never saw its answers.
      expect(
        await metric(canary.url, "http_requests_total", { route: "/v1/score", code: "200" }),
      ).toBe(canaryScored + requests);
      expect(await metric(r.url, "churn_router_requests_total", { variant: "canary" })).toBe(0);
    } finally {
      await r.close();
    }
  });

  it("counts a mirror that cannot reach the canary as an error, without touching the answer", async () => {
    const file = trafficFile();
    file.write({ weight: 0, mirrorPercent: 100, canaryUrl: deadUrl });
    const r = await router(file.path);
    try {
      await ready(r, 0);
      for (let i = 0; i < 5; i++) expect((await score(r.url, i)).status).toBe(200);
      await until(
        async () => (await metric(r.url, "churn_router_mirror_errors_total")) === 5,
        "5 mirror errors",
      );
      expect(await metric(r.url, "churn_router_mirror_comparisons_total")).toBe(0);
    } finally {
      await r.close();
    }
  });
});
