import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { get, type JsonBody, post, startTestServer } from "../../../test-support/test-server.js";
import { fixtureModel, trainedArtifact } from "../../../test-support/trained-artifact.js";
import type { RunningServer } from "../server.js";
import { HEADER_LENGTH } from "./v2-routes.js";

const fixture = trainedArtifact();
const { card, completeRows } = fixtureModel(fixture);
const rows = completeRows.slice(0, 10);
let srv: RunningServer;
let metadata: JsonBody;
let infer: string;

/** The rows as one JSON tensor per column, typed as the model's metadata advertises. */
const tensors = (from: Record<string, unknown>[]) =>
  (metadata.inputs as { name: string; datatype: string }[]).map(({ name, datatype }) => ({
    name,
    datatype,
    shape: [from.length],
    data: from.map((r) => (datatype === "BOOL" ? r[name] === 1 || r[name] === true : r[name])),
  }));

/** POSTs raw bytes with headers. */
const send = async (url: string, body: Buffer | string, headers: Record<string, string>) => {
  const res = await fetch(url, { method: "POST", body, headers });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
};

beforeAll(async () => {
  srv = await startTestServer(fixture.modelDir, {
    maxBatch: 50,
    maxExplainRows: 20,
    maxBodyBytes: 64 * 1024,
  });
  metadata = (await get(`${srv.url}/v2/models/${card.name}`)).body;
  infer = `${srv.url}/v2/models/${card.name}/infer`;
});
afterAll(async () => {
  await srv?.close();
});

describe("/v2", () => {
  it("names the model, its version (the digest) and a tensor per raw column", async () => {
    expect(metadata.name).toBe(card.name);
    expect(metadata.versions).toEqual([fixture.digest]);
    expect(metadata.inputs.map((i: JsonBody) => i.name)).toEqual(card.features.raw);
    const versioned = await get(`${srv.url}/v2/models/${card.name}/versions/${fixture.digest}`);
    expect(versioned.body).toEqual(metadata);
    expect((await get(`${srv.url}/v2/health/ready`)).body).toEqual({ ready: true });
    expect((await get(`${srv.url}/v2/models/${card.name}/ready`)).body).toEqual({
      name: card.name,
      ready: true,
    });
  });

  it("scores JSON tensors exactly as /v1 scores the same rows", async () => {
    const v1 = await post(`${srv.url}/v1/score`, { instances: rows });
    const v2 = await post(infer, { id: "abc", inputs: tensors(rows) });
    expect(v2.status).toBe(200);
    expect(v2.body.id).toBe("abc");
    expect(v2.body.model_version).toBe(fixture.digest);
    const [probability, label] = v2.body.outputs;
    expect(probability).toMatchObject({ name: "probability", datatype: "FP32", shape: [10] });
    expect(probability.data).toEqual(v1.body.predictions.map((p: JsonBody) => p.probability));
    expect(label.data).toEqual(v1.body.predictions.map((p: JsonBody) => (p.label ? 1 : 0)));
  });

  it("answers binary outputs after the JSON, sized by Inference-Header-Content-Length", async () => {
    const body = JSON.stringify({
      inputs: tensors(rows),
      outputs: [
        { name: "probability", parameters: { binary_data: true } },
        { name: "contributions", parameters: { binary_data: true } },
        { name: "base_value" },
      ],
    });
    const r = await send(infer, body, { [HEADER_LENGTH]: String(Buffer.byteLength(body)) });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/octet-stream");
    const n = Number(r.headers.get(HEADER_LENGTH));
    const head = JSON.parse(r.bytes.toString("utf8", 0, n));
    const [p, phi, base] = head.outputs;
    expect(head.parameters.explains).toMatch(/^(probability-log-odds|uncalibrated-margin)$/);
    expect(phi.shape).toEqual([rows.length, card.features.raw.length]);
    const probability = new Float32Array(
      r.bytes.buffer.slice(
        r.bytes.byteOffset + n,
        r.bytes.byteOffset + n + p.parameters.binary_data_size,
      ),
    );
    const start = n + p.parameters.binary_data_size;
    const contributions = new Float64Array(
      r.bytes.buffer.slice(
        r.bytes.byteOffset + start,
        r.bytes.byteOffset + start + phi.parameters.binary_data_size,
      ),
    );
    expect(r.bytes.length).toBe(start + phi.parameters.binary_data_size);
    const v1 = await post(`${srv.url}/v1/explain`, { instances: rows });
    v1.body.predictions.forEach((pred: JsonBody, i: number) => {
      expect(probability[i]).toBe(pred.probability);
      expect(base.data[i]).toBe(pred.explanation.baseValue);
      card.features.raw.forEach((name, k) => {
        expect(contributions[i * card.features.raw.length + k]).toBe(
          pred.explanation.contributions[name],
        );
      });
    });
  });

  it("refuses what it cannot serve with the protocol's {error} and the right status", async () => {
    const cases: [string, () => Promise<{ status: number; body: JsonBody }>, number, RegExp][] = [
      [
        "unknown model",
        () => post(`${srv.url}/v2/models/nope/infer`, { inputs: tensors(rows) }),
        404,
        /unknown model "nope"/,
      ],
      [
        "unknown version",
        () => get(`${srv.url}/v2/models/${card.name}/versions/1`),
        404,
        /unknown version "1"/,
      ],
      [
        "unknown model's readiness",
        () => get(`${srv.url}/v2/models/nope/ready`),
        404,
        /unknown model/,
      ],
      ["malformed JSON", () => post(infer, '{"inputs": ['), 400, /not valid/],
      [
        "form content",
        () => post(infer, "a=1", { "content-type": "application/x-www-form-urlencoded" }),
        415,
        /application\/json/,
      ],
      [
        "a missing column",
        () => post(infer, { inputs: tensors(rows).slice(1) }),
        400,
        new RegExp(`lacks "${card.features.raw[0]}"`),
      ],
      [
        "an unknown output",
        () => post(infer, { inputs: tensors(rows), outputs: [{ name: "x" }] }),
        400,
        /"x" is not an output/,
      ],
      [
        "too large a body",
        () => post(infer, { inputs: tensors(rows), pad: "x".repeat(70_000) }),
        413,
        /limit/,
      ],
      [
        "a header length past the body",
        () => post(infer, "{}", { [HEADER_LENGTH]: "99" }),
        400,
        /Inference-Header-Content-Length|inference-header-content-length/,
      ],
      ["a wrong method", () => get(infer), 405, /method not allowed/],
      ["no such route", () => get(`${srv.url}/v2/models`), 404, /no route/],
    ];
    for (const [what, call, status, message] of cases) {
      const r = await call();
      expect(r.status, what).toBe(status);
      expect(Object.keys(r.body), what).toEqual(["error"]);
      expect(r.body.error, what).toMatch(message);
    }
  });

  it("refuses explanations when they are switched off (403), still scoring", async () => {
    const off = await startTestServer(fixture.modelDir, { explanationsEnabled: "false" });
    try {
      const url = `${off.url}/v2/models/${card.name}/infer`;
      const r = await post(url, { inputs: tensors(rows), outputs: [{ name: "contributions" }] });
      expect(r.status).toBe(403);
      expect(r.body.error).toMatch(/explanations are disabled/);
      expect((await post(url, { inputs: tensors(rows) })).status).toBe(200);
    } finally {
      await off.close();
    }
  });
});

describe("hostile bodies on /v1 and /v2", () => {
  const valid = () => tensors(rows.slice(0, 2));
  const names = card.features.raw;
  const v2Bodies = fc.oneof(
    fc
      .jsonValue()
      .map((v) => ({ json: JSON.stringify(v), binary: undefined as Buffer | undefined })),
    // One field of one tensor replaced by anything.
    fc
      .record({
        i: fc.nat({ max: names.length - 1 }),
        key: fc.constantFrom("name", "shape", "datatype", "data", "parameters", "extra"),
        value: fc.jsonValue(),
      })
      .map(({ i, key, value }) => {
        const inputs: Record<string, unknown>[] = valid();
        inputs[i] = { ...inputs[i], [key]: value };
        return { json: JSON.stringify({ inputs }), binary: undefined };
      }),
    // The envelope's fields replaced by anything.
    fc
      .record({
        key: fc.constantFrom("id", "parameters", "outputs", "inputs"),
        value: fc.jsonValue(),
      })
      .map(({ key, value }) => ({
        json: JSON.stringify({ inputs: valid(), [key]: value }),
        binary: undefined,
      })),
    // Binary data that may not match what the JSON says of it.
    fc
      .record({
        i: fc.nat({ max: names.length - 1 }),
        size: fc.integer({ min: -2, max: 64 }),
        bytes: fc.uint8Array({ maxLength: 64 }),
        datatype: fc.constantFrom("BYTES", "INT64", "FP32", "BOOL", "UINT8", "FP16"),
      })
      .map(({ i, size, bytes, datatype }) => {
        const inputs: Record<string, unknown>[] = valid();
        const { data: _, ...rest } = inputs[i] as Record<string, unknown>;
        inputs[i] = { ...rest, datatype, parameters: { binary_data_size: size } };
        return { json: JSON.stringify({ inputs }), binary: Buffer.from(bytes) };
      }),
    fc.string().map((s) => ({ json: `{"inputs":[${s}]}`, binary: undefined })),
  );

  it("never yield a 5xx: always a 4xx with a message, or an answer", async () => {
    await fc.assert(
      fc.asyncProperty(v2Bodies, async ({ json, binary }) => {
        const r = binary
          ? await send(infer, Buffer.concat([Buffer.from(json), binary]), {
              [HEADER_LENGTH]: String(Buffer.byteLength(json)),
            })
          : await send(infer, json, { "content-type": "application/json" });
        expect(r.status, json).toBeLessThan(500);
        const n = Number(r.headers.get(HEADER_LENGTH) ?? r.bytes.length);
        const body = JSON.parse(r.bytes.toString("utf8", 0, n));
        if (r.status === 200) expect(body.outputs.length).toBeGreaterThan(0);
        else expect(body.error.length, json).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
    // The same kinds of damage to a /v1 body.
    await fc.assert(
      fc.asyncProperty(
        fc.record({ key: fc.constantFrom(...names, "extra"), value: fc.jsonValue() }),
        fc.constantFrom("/v1/score", "/v1/explain"),
        async ({ key, value }, path) => {
          const r = await post(`${srv.url}${path}`, { instances: [{ ...rows[0], [key]: value }] });
          expect(r.status).toBeLessThan(500);
          if (r.status !== 200) expect(r.body.error.message.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 100 },
    );
    expect((await get(`${srv.url}/v2/health/ready`)).status).toBe(200);
  });
});
