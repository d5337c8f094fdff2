// Every kind of bad input gets a clear 4xx naming the problem, never a 5xx.
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { get, type JsonBody, post, startTestServer } from "../../test-support/test-server.js";
import { trainedArtifact } from "../../test-support/trained-artifact.js";
import type { Reference } from "../artifact/artifact.js";
import type { FeatureSpec, ModelCard } from "../artifact/model-card.js";
import type { RunningServer } from "./server.js";

const fixture = trainedArtifact();
const card = JSON.parse(readFileSync(join(fixture.modelDir, "model.json"), "utf8")) as ModelCard;
const reference = JSON.parse(
  readFileSync(join(fixture.modelDir, "reference.json"), "utf8"),
) as Reference;
const valid = reference.rows.find((r) =>
  card.schema.features.every((f) => r[f.name] !== null && r[f.name] !== undefined),
) as Record<string, unknown>;
const numeric = card.schema.features.find(
  (f) => f.type === "numeric" || f.type === "integer",
) as FeatureSpec;
const required = card.schema.features.find((f) => !f.nullable) as FeatureSpec;
const categorical = card.schema.features.find((f) => f.type === "categorical") as FeatureSpec & {
  type: "categorical";
};
const MAX_BATCH = 20;
let srv: RunningServer;
let url: string;

beforeAll(async () => {
  srv = await startTestServer(fixture.modelDir, {
    maxBatch: MAX_BATCH,
    maxExplainRows: 5,
    maxBodyBytes: 64 * 1024,
    featuresFile: fixture.dataCsv,
  });
  url = `${srv.url}/v1/score`;
});
afterAll(async () => {
  await srv?.close();
});

const fieldsOf = (body: JsonBody): string[] =>
  (body.error.fields ?? []).map((f: JsonBody) => f.field);

describe("bad input", () => {
  it("malformed JSON -> 400", async () => {
    const r = await post(url, '{"instances": [', { "content-type": "application/json" });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("malformed_json");
    expect(r.body.error.message).toMatch(/not valid JSON/);
  });

  it("an empty body -> 400", async () => {
    const r = await post(url, "", { "content-type": "application/json" });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/empty/);
  });

  it("wrong content type -> 415", async () => {
    const r = await post(url, JSON.stringify({ instances: [valid] }), {
      "content-type": "text/plain",
    });
    expect(r.status).toBe(415);
    expect(r.body.error.message).toContain("application/json");
  });

  it("a body over the limit -> 413", async () => {
    const huge = JSON.stringify({ instances: [valid], pad: "x".repeat(100 * 1024) });
    const r = await post(url, huge);
    expect(r.status).toBe(413);
    expect(r.body.error.message).toMatch(/limit of 65536 bytes/);
  });

  it("a chunked body over the limit (no content-length) -> 413", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        url,
        { method: "POST", headers: { "content-type": "application/json" } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      for (let i = 0; i < 80; i++) req.write("x".repeat(1024));
      req.end();
    });
    expect(status).toBe(413);
  });

  it("a missing field -> 400 naming it", async () => {
    const row = { ...valid };
    delete row[required.name];
    const r = await post(url, { instances: [valid, row] });
    expect(r.status).toBe(400);
    expect(r.body.error.fields).toContainEqual({
      field: `instances[1].${required.name}`,
      message: "is required",
    });
  });

  it("an extra field -> 400 naming it", async () => {
    const r = await post(url, { instances: [{ ...valid, Favourite: "blue" }] });
    expect(r.status).toBe(400);
    expect(fieldsOf(r.body)).toEqual(["instances[0].Favourite"]);
    expect(r.body.error.fields[0].message).toMatch(/not a field/);
  });

  it("an extra top-level key -> 400 naming it", async () => {
    const r = await post(url, { instances: [valid], colour: 1 });
    expect(r.status).toBe(400);
    expect(fieldsOf(r.body)).toEqual(["colour"]);
  });

  it("a string where a number belongs -> 400 naming the field and the type", async () => {
    const r = await post(url, { instances: [{ ...valid, [numeric.name]: "42" }] });
    expect(r.status).toBe(400);
    const expected = numeric.type === "integer" ? "an integer" : "a number";
    expect(r.body.error.fields).toEqual([
      {
        field: `instances[0].${numeric.name}`,
        message: `expected ${expected}, got the string "42"`,
      },
    ]);
  });

  it("NaN and Infinity -> 400", async () => {
    const json = JSON.stringify({ instances: [{ ...valid, [numeric.name]: "__NUM__" }] });
    // JSON has no NaN literal: the body is malformed.
    const nan = await post(url, json.replace(`"__NUM__"`, "NaN"));
    expect(nan.status).toBe(400);
    expect(nan.body.error.code).toBe("malformed_json");
    // 1e999 parses to Infinity, which no feature accepts.
    const inf = await post(url, json.replace(`"__NUM__"`, "1e999"));
    expect(inf.status).toBe(400);
    expect(fieldsOf(inf.body)).toEqual([`instances[0].${numeric.name}`]);
    for (const text of ["NaN", "Infinity"]) {
      const r = await post(url, { instances: [{ ...valid, [numeric.name]: text }] });
      expect(r.status).toBe(400);
      expect(fieldsOf(r.body)).toEqual([`instances[0].${numeric.name}`]);
    }
  });

  it("reports every bad field at once", async () => {
    const row = { ...valid, [numeric.name]: "x", [categorical.name]: 7 };
    const r = await post(url, { instances: [row, { ...valid, Other: 1 }] });
    expect(r.status).toBe(400);
    expect(fieldsOf(r.body).sort()).toEqual(
      [
        `instances[0].${numeric.name}`,
        `instances[0].${categorical.name}`,
        "instances[1].Other",
      ].sort(),
    );
  });

  it("an unknown category is scored as the schema says, with a flag", async () => {
    const r = await post(url, { instances: [{ ...valid, [categorical.name]: "Atlantis" }] });
    if (categorical.unseen === "error") {
      expect(r.status).toBe(400);
      expect(r.body.error.fields[0].field).toBe(`instances[0].${categorical.name}`);
      expect(r.body.error.fields[0].message).toMatch(/unknown category/);
    } else {
      expect(r.status).toBe(200);
      expect(r.body.predictions[0].unknownCategories).toEqual([categorical.name]);
    }
    const known = await post(url, { instances: [valid] });
    expect(known.body.predictions[0].unknownCategories).toBeUndefined();
  });

  it("an empty batch -> 400", async () => {
    const r = await post(url, { instances: [] });
    expect(r.status).toBe(400);
    expect(r.body.error.fields).toEqual([
      { field: "instances", message: "must hold at least one instance" },
    ]);
  });

  it("a batch over the cap -> 400", async () => {
    const r = await post(url, { instances: Array.from({ length: MAX_BATCH + 1 }, () => valid) });
    expect(r.status).toBe(400);
    expect(r.body.error.fields[0]).toEqual({
      field: "instances",
      message: `holds more than the limit of ${MAX_BATCH} instances per request`,
    });
  });

  it("an explanation over the row cap -> 400", async () => {
    const r = await post(`${srv.url}/v1/explain`, {
      instances: Array.from({ length: 6 }, () => valid),
    });
    expect(r.status).toBe(400);
    expect(r.body.error.fields[0].message).toMatch(/explanations are limited to 5/);
    const viaFlag = await post(url, {
      instances: Array.from({ length: 6 }, () => valid),
      explain: true,
    });
    expect(viaFlag.status).toBe(400);
  });

  it("wrong shapes -> 400", async () => {
    for (const body of [
      [],
      null,
      5,
      "x",
      { instances: {} },
      { instances: [1] },
      { rows: [valid] },
      { instances: [valid], explain: "yes" },
    ]) {
      const r = await post(url, JSON.stringify(body));
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.message.length).toBeGreaterThan(0);
    }
  });

  it("an unknown customer id -> 404, a bad explain flag -> 400", async () => {
    expect((await get(`${srv.url}/v1/customers/0/score`)).status).toBe(404);
    const r = await get(`${srv.url}/v1/customers/0/score?explain=maybe`);
    expect(r.status).toBe(400);
    expect(r.body.error.fields).toEqual([{ field: "explain", message: "must be true or false" }]);
  });

  it("unknown routes -> 404, wrong methods -> 405", async () => {
    expect((await get(`${srv.url}/v2/score`)).status).toBe(404);
    const r = await get(url);
    expect(r.status).toBe(405);
    expect(r.body.error.code).toBe("method_not_allowed");
  });
});

describe("fuzz", () => {
  const base = { ...valid };
  const names = Object.keys(base);
  const mutation = fc.oneof(
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc
      .record({ key: fc.constantFrom(...names, "extra"), value: fc.jsonValue() })
      .map(({ key, value }) => JSON.stringify({ instances: [{ ...base, [key]: value }] })),
    fc.array(fc.constantFrom(...names), { maxLength: 4 }).map((drop) =>
      JSON.stringify({
        instances: [Object.fromEntries(Object.entries(base).filter(([k]) => !drop.includes(k)))],
      }),
    ),
    fc.string().map((s) => `{"instances":[${s}]}`),
  );

  it("random JSON never yields a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(
        mutation,
        fc.constantFrom("/v1/score", "/v1/explain"),
        async (body, path) => {
          const r = await post(`${srv.url}${path}`, body);
          expect(r.status, body).toBeLessThan(500);
          expect(r.status === 200 ? r.body.predictions : r.body.error.message).toBeDefined();
        },
      ),
      { numRuns: 300 },
    );
    expect((await get(`${srv.url}/readyz`)).status).toBe(200);
  });
});
