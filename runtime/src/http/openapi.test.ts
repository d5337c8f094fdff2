// Keeps /openapi.json true: real requests and responses are validated against it.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
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
let srv: RunningServer;
let doc: JsonBody;
const ajv = new Ajv2020({ strict: false, allErrors: true });

beforeAll(async () => {
  srv = await startTestServer(fixture.modelDir, {
    featuresFile: fixture.dataCsv,
    maxBatch: 50,
    maxBodyBytes: 64 * 1024,
  });
  doc = (await get(`${srv.url}/openapi.json`)).body;
  ajv.addSchema(doc, "api");
});
afterAll(async () => {
  await srv?.close();
});

const pointer = (...parts: string[]) =>
  `api#/${parts.map((p) => p.replace(/~/g, "~0").replace(/\//g, "~1")).join("/")}`;

/** Validates a response body against the document's schema for that operation and status. */
function checkResponse(path: string, method: string, status: number, body: unknown): void {
  const responses = doc.paths[path]?.[method]?.responses;
  expect(responses, `${method} ${path} is documented`).toBeDefined();
  expect(responses[String(status)], `${method} ${path} documents status ${status}`).toBeDefined();
  const validate = ajv.getSchema(
    pointer(
      "paths",
      path,
      method,
      "responses",
      String(status),
      "content",
      "application/json",
      "schema",
    ),
  );
  expect(validate).toBeDefined();
  const ok = validate?.(body);
  expect(ok, JSON.stringify(validate?.errors?.slice(0, 3))).toBe(true);
}

function requestValidator(path: string) {
  const v = ajv.getSchema(
    pointer("paths", path, "post", "requestBody", "content", "application/json", "schema"),
  );
  if (!v) throw new Error(`no request schema for ${path}`);
  return v;
}

describe("/openapi.json", () => {
  it("is an OpenAPI 3.1 document naming the served model", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info.version).toBe(fixture.digest);
    expect(Object.keys(doc.components.schemas.Instance.properties)).toEqual(
      expect.arrayContaining(card.features.raw),
    );
  });

  it("describes the successful responses the server really sends", async () => {
    const rows = reference.rows.slice(0, 5);
    const score = await post(`${srv.url}/v1/score`, { instances: rows });
    checkResponse("/v1/score", "post", score.status, score.body);
    const explain = await post(`${srv.url}/v1/explain`, { instances: rows });
    checkResponse("/v1/explain", "post", explain.status, explain.body);
    const withFlag = await post(`${srv.url}/v1/score`, { instances: rows, explain: true });
    checkResponse("/v1/score", "post", withFlag.status, withFlag.body);
    const [header, first] = parseCsv(readFileSync(fixture.dataCsv, "utf8"));
    const id = (first as string[])[(header as string[]).indexOf(card.schema.idColumn as string)];
    const customer = await get(`${srv.url}/v1/customers/${id}/score`);
    checkResponse("/v1/customers/{id}/score", "get", customer.status, customer.body);
    for (const path of ["/v1/model", "/healthz", "/readyz", "/openapi.json"]) {
      const r = await get(`${srv.url}${path}`);
      expect(r.status).toBe(200);
      checkResponse(path, "get", r.status, r.body);
    }
    const metrics = await fetch(`${srv.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(Object.keys(doc.paths["/metrics"].get.responses["200"].content)).toEqual(["text/plain"]);
    expect(metrics.headers.get("content-type")).toMatch(/^text\/plain/);
  });

  it("describes the error responses the server really sends", async () => {
    const cases: [string, string, () => Promise<{ status: number; body: unknown }>][] = [
      ["/v1/score", "post", () => post(`${srv.url}/v1/score`, { instances: [] })],
      [
        "/v1/score",
        "post",
        () => post(`${srv.url}/v1/score`, "{", { "content-type": "application/json" }),
      ],
      [
        "/v1/score",
        "post",
        () => post(`${srv.url}/v1/score`, "{}", { "content-type": "text/csv" }),
      ],
      [
        "/v1/score",
        "post",
        () => post(`${srv.url}/v1/score`, { instances: [], pad: "x".repeat(70_000) }),
      ],
      ["/v1/explain", "post", () => post(`${srv.url}/v1/explain`, { instances: [{ nope: 1 }] })],
      ["/v1/customers/{id}/score", "get", () => get(`${srv.url}/v1/customers/unknown/score`)],
    ];
    const seen = new Set<number>();
    for (const [path, method, send] of cases) {
      const r = await send();
      seen.add(r.status);
      checkResponse(path, method, r.status, r.body);
    }
    expect([...seen].sort()).toEqual([400, 404, 413, 415]);
  });

  it("accepts the requests the server accepts and rejects the ones it rejects", async () => {
    const validate = requestValidator("/v1/score");
    const good = { instances: reference.rows.slice(0, 10) };
    expect(validate(good), JSON.stringify(validate.errors)).toBe(true);
    expect((await post(`${srv.url}/v1/score`, good)).status).toBe(200);
    const base = reference.rows[0] as Record<string, unknown>;
    const numeric = card.schema.features.find((f) => f.type === "numeric" || f.type === "integer");
    const bad = [
      { instances: [] },
      { instances: [{ ...base, extra: 1 }] },
      { instances: [{ ...base, [numeric?.name as string]: "1" }] },
      { instances: Array.from({ length: 51 }, () => base) },
      { instances: [base], explain: 1 },
    ];
    for (const body of bad) {
      expect(validate(body), JSON.stringify(body).slice(0, 80)).toBe(false);
      expect((await post(`${srv.url}/v1/score`, body)).status).toBe(400);
    }
  });

  it("describes the Open Inference Protocol's answers and accepts its requests", async () => {
    const model = `/v2/models/${card.name}`;
    checkResponse("/v2", "get", 200, (await get(`${srv.url}/v2`)).body);
    checkResponse("/v2/health/ready", "get", 200, (await get(`${srv.url}/v2/health/ready`)).body);
    const metadata = (await get(`${srv.url}${model}`)).body;
    checkResponse("/v2/models/{name}", "get", 200, metadata);
    expect(doc.components.schemas.V2ModelMetadata.examples).toEqual([metadata]);
    checkResponse(
      "/v2/models/{name}/ready",
      "get",
      200,
      (await get(`${srv.url}${model}/ready`)).body,
    );
    const row = reference.rows[0] as Record<string, unknown>;
    const inputs = metadata.inputs.map((i: { name: string; datatype: string }) => ({
      name: i.name,
      datatype: i.datatype,
      shape: [1],
      data: [i.datatype === "BOOL" ? row[i.name] === 1 : row[i.name]],
    }));
    const body = { id: "1", inputs, outputs: [{ name: "probability" }, { name: "contributions" }] };
    const validate = requestValidator("/v2/models/{name}/infer");
    expect(validate(body), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ inputs: [{ ...inputs[0], datatype: "FP8" }] })).toBe(false);
    const answer = await post(`${srv.url}${model}/infer`, body);
    checkResponse("/v2/models/{name}/infer", "post", 200, answer.body);
    const refused = await post(`${srv.url}${model}/infer`, { inputs: [] });
    checkResponse("/v2/models/{name}/infer", "post", 400, refused.body);
    const unknown = await get(`${srv.url}/v2/models/nope/versions/1`);
    checkResponse("/v2/models/{name}/versions/{version}", "get", 404, unknown.body);
  });

  it("documents every route the server answers", async () => {
    for (const path of Object.keys(doc.paths)) {
      const concrete = path.replace("{id}", "x");
      const method = Object.keys(doc.paths[path])[0] as string;
      const res = await fetch(`${srv.url}${concrete}`, { method: method.toUpperCase() });
      await res.text();
      expect(res.status, path).not.toBe(405);
      expect([200, 400, 404, 415], path).toContain(res.status);
    }
  });
});
