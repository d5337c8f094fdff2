import * as grpc from "@grpc/grpc-js";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { typedInputs } from "../../test-support/grpc-infer-inputs.js";
import { metric } from "../../test-support/test-router.js";
import { post, startTestServer } from "../../test-support/test-server.js";
import { fixtureModel, trainedArtifact } from "../../test-support/trained-artifact.js";
import type { RunningServer } from "../http/server.js";
import { loadInferenceService } from "./grpc-server.js";

const fixture = trainedArtifact();
const { card, completeRows } = fixtureModel(fixture);
const rows = completeRows.slice(0, 3);
let srv: RunningServer;
let client: grpc.Client;

type Answer = { error: grpc.ServiceError | null; value: Record<string, unknown> | undefined };
type Unary = (
  request: unknown,
  callback: (error: grpc.ServiceError | null, value?: Record<string, unknown>) => void,
) => void;
/** Calls one unary method and returns its error or answer. */
const call = (method: string, request: unknown) =>
  new Promise<Answer>((resolve) => {
    const f = (client as unknown as Record<string, Unary>)[method] as Unary;
    f.call(client, request, (error, value) => resolve({ error, value }));
  });

/** The rows as typed contents. */
const inputs = (from: Record<string, unknown>[]) => typedInputs(card, from);

beforeAll(async () => {
  srv = await startTestServer(fixture.modelDir, { grpcPort: 0, maxBatch: 50 });
  const Service = loadInferenceService();
  client = new Service(`127.0.0.1:${srv.grpc?.port}`, grpc.credentials.createInsecure());
});
afterAll(async () => {
  client?.close();
  await srv?.close();
});

describe("gRPC", () => {
  it("scores typed contents as /v1 scores the rows, in raw output contents", async () => {
    const v1 = await post(`${srv.url}/v1/score`, { instances: rows });
    const { error, value } = await call("ModelInfer", {
      model_name: card.name,
      id: "x",
      inputs: inputs(rows),
    });
    expect(error).toBeNull();
    const answer = value as Record<string, unknown>;
    expect(answer.id).toBe("x");
    expect((answer.outputs as { name: string }[]).map((o) => o.name)).toEqual([
      "probability",
      "label",
    ]);
    const raw = (answer.raw_output_contents as Buffer[])[0] as Buffer;
    const probabilities = Array.from({ length: rows.length }, (_, i) => raw.readFloatLE(i * 4));
    expect(probabilities).toEqual(
      v1.body.predictions.map((p: { probability: number }) => p.probability),
    );
  });

  it("refuses with the REST status's code and message", async () => {
    const unknown = await call("ModelMetadata", { name: "nope" });
    expect(unknown.error?.code).toBe(grpc.status.NOT_FOUND);
    expect(unknown.error?.details).toMatch(/unknown model "nope"/);
    const missing = await call("ModelInfer", {
      model_name: card.name,
      inputs: inputs(rows).slice(1),
    });
    expect(missing.error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(missing.error?.details).toMatch(/lacks/);
    const ready = await call("ModelReady", { name: card.name });
    expect(ready.value).toEqual({ ready: true });
    // Counted as REST's are, under the REST route's template, so canary analysis sees them.
    const grpcCalls = { method: "GRPC" };
    expect(
      await metric(srv.url, "http_requests_total", {
        ...grpcCalls,
        route: "/v2/models/:name",
        code: "404",
      }),
    ).toBe(1);
    expect(
      await metric(srv.url, "http_requests_total", {
        ...grpcCalls,
        route: "/v2/models/:name/infer",
        code: "400",
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      await metric(srv.url, "http_request_duration_seconds_count", {
        ...grpcCalls,
        route: "/v2/models/:name/ready",
        code: "200",
      }),
    ).toBe(1);
  });

  it("answers hostile messages with a refusal or an answer, never an internal error", async () => {
    const names = [...card.features.raw, card.schema.idColumn as string, "junk"];
    const datatypes = ["BOOL", "INT64", "INT32", "UINT64", "FP32", "FP64", "BYTES", "FP16", "X"];
    const tensor = fc.record({
      name: fc.constantFrom(...names),
      datatype: fc.constantFrom(...datatypes),
      shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
      contents: fc.oneof(
        fc.record({ fp64_contents: fc.array(fc.double(), { maxLength: 4 }) }),
        fc.record({ int64_contents: fc.array(fc.integer(), { maxLength: 4 }) }),
        fc.record({ bool_contents: fc.array(fc.boolean(), { maxLength: 4 }) }),
        fc.record({
          bytes_contents: fc.array(
            fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b)),
            { maxLength: 4 },
          ),
        }),
      ),
    });
    const message = fc.record({
      model_name: fc.constantFrom(card.name, "other"),
      inputs: fc.oneof(
        fc.array(tensor, { maxLength: 15 }),
        fc
          .constant(inputs(rows.slice(0, 1)))
          .chain((valid) =>
            fc
              .nat({ max: valid.length - 1 })
              .chain((i) => tensor.map((t) => valid.map((v, k) => (k === i ? t : v)))),
          ),
      ),
      raw_input_contents: fc.oneof(
        fc.constant([]),
        fc.array(
          fc.uint8Array({ maxLength: 24 }).map((b) => Buffer.from(b)),
          { maxLength: 4 },
        ),
      ),
      outputs: fc.array(fc.record({ name: fc.constantFrom("probability", "contributions", "x") }), {
        maxLength: 2,
      }),
    });
    await fc.assert(
      fc.asyncProperty(message, async (m) => {
        const { error } = await call("ModelInfer", m);
        if (error) {
          expect([grpc.status.INVALID_ARGUMENT, grpc.status.NOT_FOUND], error.details).toContain(
            error.code,
          );
          expect(error.details.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 200 },
    );
    expect((await call("ServerReady", {})).value).toEqual({ ready: true });
  });
});
