// The API end to end: a real server on 127.0.0.1, real onnxruntime, the trainer's artifact.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { get, type JsonBody, post, startTestServer } from "../../test-support/test-server.js";
import { trainedArtifact } from "../../test-support/trained-artifact.js";
import type { Reference } from "../artifact/artifact.js";
import type { ModelCard } from "../artifact/model-card.js";
import { parseCsv } from "../data/csv-reader.js";
import type { RunningServer } from "./server.js";

const fixture = trainedArtifact();
const card = JSON.parse(readFileSync(join(fixture.modelDir, "model.json"), "utf8")) as ModelCard;
const reference = JSON.parse(
  readFileSync(join(fixture.modelDir, "reference.json"), "utf8"),
) as Reference;
const logs: string[] = [];
let srv: RunningServer;

beforeAll(async () => {
  srv = await startTestServer(
    fixture.modelDir,
    { featuresFile: fixture.dataCsv, maxBatch: 5000, maxExplainRows: 5000 },
    logs,
  );
});
afterAll(async () => {
  await srv?.close();
});

describe("health and model", () => {
  it("is ready after the self-check passed against reference.json", async () => {
    const r = await get(`${srv.url}/readyz`);
    expect(r.status).toBe(200);
    expect(r.body.ready).toBe(true);
    expect(r.body.modelVersion).toBe(fixture.digest);
    expect(r.body.selfCheck.passed).toBe(true);
    expect(r.body.selfCheck.rows).toBe(reference.rows.length);
    expect(r.body.selfCheck.maxProbabilityDiff).toBeLessThanOrEqual(1e-5);
    expect(r.body.selfCheck.maxContributionDiff).toBeLessThanOrEqual(1e-4);
  });

  it("answers /healthz and serves the model card", async () => {
    expect((await get(`${srv.url}/healthz`)).body).toEqual({ status: "ok" });
    const model = await get(`${srv.url}/v1/model`);
    expect(model.status).toBe(200);
    expect(model.body.digest).toBe(fixture.digest);
    expect(model.body.features.raw).toEqual(card.features.raw);
  });
});

describe("POST /v1/score", () => {
  it("returns the trainer's probabilities, labels at the threshold and the model version", async () => {
    const rows = reference.rows.slice(0, 50);
    const r = await post(`${srv.url}/v1/score`, { instances: rows });
    expect(r.status).toBe(200);
    expect(r.body.modelVersion).toBe(fixture.digest);
    expect(r.body.predictions).toHaveLength(rows.length);
    r.body.predictions.forEach((p: JsonBody, i: number) => {
      expect(Math.abs(p.probability - (reference.probabilities[i] as number))).toBeLessThanOrEqual(
        1e-5,
      );
      expect(p.threshold).toBe(card.threshold.value);
      expect(p.label).toBe(p.probability >= card.threshold.value);
      expect(p.modelVersion).toBe(fixture.digest);
      expect(p.explanation).toBeUndefined();
    });
  });

  it("echoes a caller's request id and makes one up otherwise", async () => {
    const mine = await post(
      `${srv.url}/v1/score`,
      { instances: [reference.rows[0]] },
      {
        "content-type": "application/json",
        "x-request-id": "req-123",
      },
    );
    expect(mine.headers.get("x-request-id")).toBe("req-123");
    const theirs = await post(`${srv.url}/v1/score`, { instances: [reference.rows[0]] });
    expect(theirs.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const line = logs.map((l) => JSON.parse(l)).find((l) => l.requestId === "req-123");
    expect(line).toMatchObject({ msg: "request", route: "/v1/score", status: 200 });
  });

  it("echoes the id column back as `id`", async () => {
    const id = card.schema.idColumn as string;
    const r = await post(`${srv.url}/v1/score`, {
      instances: [{ ...reference.rows[0], [id]: 4242 }],
    });
    expect(r.status).toBe(200);
    expect(r.body.predictions[0].id).toBe(4242);
  });

  it("explains when asked with explain: true", async () => {
    const r = await post(`${srv.url}/v1/score`, {
      instances: reference.rows.slice(0, 3),
      explain: true,
    });
    expect(r.status).toBe(200);
    for (const p of r.body.predictions) expect(p.explanation.contributions).toBeTypeOf("object");
  });
});

describe("POST /v1/explain", () => {
  it("gives xgboost's SHAP values summed per raw column, the base value and the log-odds", async () => {
    const n = reference.rows.length;
    const r = await post(`${srv.url}/v1/explain`, { instances: reference.rows });
    expect(r.status).toBe(200);
    const f = card.features.encoded.length;
    for (let i = 0; i < n; i++) {
      const e = r.body.predictions[i].explanation;
      const contributions = reference.contributions[i] as number[];
      const expected = new Array<number>(card.features.raw.length).fill(0);
      card.features.encodedToRaw.forEach((k, j) => {
        expected[k] = (expected[k] as number) + (contributions[j] as number);
      });
      card.features.raw.forEach((name, k) => {
        expect(Math.abs(e.contributions[name] - (expected[k] as number))).toBeLessThanOrEqual(1e-4);
      });
      expect(Math.abs(e.baseValue - (contributions[f] as number))).toBeLessThanOrEqual(1e-4);
      expect(Math.abs(e.logOdds - (reference.margins[i] as number))).toBeLessThanOrEqual(1e-4);
      const sum = Object.values(e.contributions as Record<string, number>).reduce(
        (a, b) => a + b,
        0,
      );
      expect(e.baseValue + sum).toBeCloseTo(e.logOdds, 9);
      // The log-odds are the served probability's.
      const p = r.body.predictions[i].probability;
      expect(1 / (1 + Math.exp(-e.logOdds))).toBeCloseTo(p, 5);
    }
  });

  it("lists the strongest drivers in order, each with the row's value", async () => {
    const row = reference.rows[0] as Record<string, unknown>;
    const r = await post(`${srv.url}/v1/explain`, { instances: [row] });
    const e = r.body.predictions[0].explanation;
    expect(e.topPositive.length).toBeLessThanOrEqual(3);
    expect(e.topNegative.length).toBeLessThanOrEqual(3);
    const pos = e.topPositive.map((d: JsonBody) => d.contribution);
    expect(pos).toEqual([...pos].sort((a, b) => b - a));
    for (const d of e.topPositive) {
      expect(d.contribution).toBeGreaterThan(0);
      expect(d.contribution).toBe(e.contributions[d.feature]);
      expect(d.value).toEqual(row[d.feature] ?? null);
    }
    const largest = Math.max(...(Object.values(e.contributions) as number[]));
    if (largest > 0) expect(e.topPositive[0].contribution).toBe(largest);
    for (const d of e.topNegative) expect(d.contribution).toBeLessThan(0);
  });

  it("keeps /healthz answering while a large explanation runs on the worker threads", async () => {
    const rows = Array.from({ length: 5000 }, (_, i) => reference.rows[i % reference.rows.length]);
    let explained = false;
    const big = post(`${srv.url}/v1/explain`, { instances: rows }).then((r) => {
      explained = true;
      return r;
    });
    // Probes issued after the big request must not queue behind it.
    let answeredFirst = 0;
    for (let i = 0; i < 3; i++) {
      const h = await get(`${srv.url}/healthz`);
      expect(h.status).toBe(200);
      if (!explained) answeredFirst++;
    }
    expect((await big).status).toBe(200);
    expect(answeredFirst).toBeGreaterThan(0);
  });
});

describe("GET /v1/customers/:id/score", () => {
  const [header, ...rows] = parseCsv(readFileSync(fixture.dataCsv, "utf8"));
  const idIndex = (header as string[]).indexOf(card.schema.idColumn as string);
  const customerId = (rows[5] as string[])[idIndex] as string;

  it("scores the stored customer like POSTing the same row", async () => {
    const r = await get(`${srv.url}/v1/customers/${customerId}/score?explain=true`);
    expect(r.status).toBe(200);
    expect(r.body.prediction.id).toBe(customerId);
    expect(r.body.prediction.explanation.logOdds).toBeTypeOf("number");
    const record: Record<string, unknown> = {};
    (header as string[]).forEach((h, i) => {
      if (!card.features.raw.includes(h)) return;
      const v = (rows[5] as string[])[i] as string;
      const type = card.schema.features.find((s) => s.name === h)?.type;
      record[h] = v === "" ? null : type === "categorical" || type === "ordinal" ? v : Number(v);
    });
    const direct = await post(`${srv.url}/v1/score`, { instances: [record] });
    expect(r.body.prediction.probability).toBe(direct.body.predictions[0].probability);
  });

  it("answers 404 for an unknown customer", async () => {
    const r = await get(`${srv.url}/v1/customers/no-such-customer/score`);
    expect(r.status).toBe(404);
    expect(r.body.error.message).toContain("no-such-customer");
  });
});

describe("GET /metrics", () => {
  it("exports request, scoring, drift and model metrics", async () => {
    // Enough rows for the drift window to report PSI.
    await post(`${srv.url}/v1/score`, { instances: reference.rows });
    const text = (await get(`${srv.url}/metrics`)).body as string;
    expect(text).toMatch(
      /http_request_duration_seconds_bucket\{le="[^"]+",method="POST",route="\/v1\/score",code="200"\}/,
    );
    expect(text).toMatch(/http_requests_total\{method="POST",route="\/v1\/score",code="200"\} \d+/);
    expect(text).toMatch(/churn_scored_rows_total\{endpoint="score"\} \d+/);
    expect(text).toMatch(/churn_prediction_probability_bucket\{le="0.5"\} \d+/);
    expect(text).toMatch(/churn_predicted_positive_rate \d/);
    expect(text).toContain(`churn_model_info{name="${card.name}",version="${fixture.digest}"`);
    expect(text).toMatch(/churn_model_ready 1/);
    for (const name of card.features.raw) {
      expect(text).toMatch(new RegExp(`churn_feature_drift_psi\\{feature="${name}"\\} [0-9.e-]+`));
    }
    expect(text).toMatch(/churn_score_drift_psi [0-9.e-]+/);
  });

  it("labels by route template, so raw paths never become label values", async () => {
    for (let i = 0; i < 20; i++) await get(`${srv.url}/random/${i}/path`);
    await get(`${srv.url}/v1/customers/abc-${Date.now()}/score`);
    const text = (await get(`${srv.url}/metrics`)).body as string;
    expect(text).not.toContain("/random/");
    expect(text).not.toContain("abc-");
    expect(text).toContain('route="unmatched",code="404"');
    expect(text).toContain('route="/v1/customers/:id/score",code="404"');
  });
});
