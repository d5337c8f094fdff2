// The request rules are described once (request-rules.ts); the yes-or-no check, the field-error
// report and the OpenAPI schema are derived from that description. These tests check the
// derivations: the three agree on every body, and the report says what it always said.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { trainedArtifact } from "../../test-support/trained-artifact.js";
import { type ModelCard, parseModelCard } from "../artifact/model-card.js";
import { shapeJsonSchema } from "./json-schema.js";
import { instanceShape, type ScoreRequest, scoreRequestShape } from "./request-rules.js";
import { compileValidator } from "./shape-validator.js";

const fixture = trainedArtifact();
const card = parseModelCard(JSON.parse(readFileSync(join(fixture.modelDir, "model.json"), "utf8")));
const reference = JSON.parse(readFileSync(join(fixture.modelDir, "reference.json"), "utf8")) as {
  rows: Record<string, unknown>[];
};
const MAX = 5;

/** The fixture's card with every kind of rule the trained one lacks. */
function variant(): ModelCard {
  const v = structuredClone(card);
  v.schema.features = v.schema.features.map((f, i) => {
    const g = { ...f, nullable: i % 3 === 0 };
    if (g.type === "categorical" || g.type === "ordinal") g.unseen = i % 2 ? "error" : undefined;
    if (g.type === "integer" && i % 2) g.min = g.max = undefined;
    return g;
  });
  // The id column is also dropped: it is still checked as an id.
  v.schema.drop = [...(v.schema.drop ?? []), v.schema.idColumn as string];
  return v;
}

function derived(c: ModelCard) {
  const instance = instanceShape(c);
  const shape = scoreRequestShape(instance, { maxInstances: MAX, maxExplainRows: MAX });
  const ref = (name: string) => ({ $ref: `#/$defs/${name}` });
  const ajv = new Ajv2020({ strict: false });
  const json = ajv.compile({
    ...shapeJsonSchema(shape, ref),
    $defs: { Instance: shapeJsonSchema(instance, ref) },
  });
  return { validator: compileValidator<ScoreRequest>(shape), json };
}

/** Values near every boundary a rule draws: types, ranges, integrality, categories, lengths. */
const edgy = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom(
    ...[null, 0, 1, -1, 0.5, -0, 17, 300, 900, 901, 299.5, 2 ** 53, -(2 ** 53), 1e300, 2 ** 53 - 1],
    ...[2 ** 128 - 2 ** 103, -(2 ** 128 - 2 ** 103), 2 ** 128 - 2 ** 104, 3.4028235e38],
    ...["", "France", "GOLD", "x", "a".repeat(10), true, false, [], [1], {}, { length: 0 }],
  ),
  fc.double(),
  fc.integer({ min: -10, max: 1000 }),
);

function bodies(c: ModelCard) {
  const names = [
    ...c.features.raw,
    c.schema.idColumn as string,
    c.schema.target?.column as string,
    ...(c.schema.drop ?? []),
  ];
  const row = fc
    .tuple(
      fc.constantFrom(...reference.rows),
      fc.array(fc.tuple(fc.constantFrom(...names, "extra", "__proto__"), edgy), { maxLength: 3 }),
      fc.array(fc.constantFrom(...names), { maxLength: 2 }),
    )
    .map(([base, sets, drops]) => {
      const out: Record<string, unknown> = { ...base };
      for (const [k, v] of sets)
        Object.defineProperty(out, k, {
          value: v,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      for (const k of drops) delete out[k];
      return out;
    });
  return fc.oneof(
    fc.record({
      instances: fc.array(fc.constantFrom(...reference.rows), { minLength: 1, maxLength: MAX }),
    }),
    fc.record({ instances: fc.array(row, { minLength: 0, maxLength: MAX + 1 }) }),
    fc.record({ instances: fc.array(row, { maxLength: 2 }), explain: edgy }),
    fc.record({ instances: edgy }),
    fc.jsonValue(),
  );
}

describe("derived from one description", () => {
  it("accepts the reference rows", () => {
    const { validator } = derived(card);
    for (const row of reference.rows) {
      const body = { instances: [row] };
      expect(validator.accepts(body)).toBe(true);
      expect(validator.errors(body)).toEqual([]);
    }
  });

  for (const [name, c] of [
    ["the trained card", card],
    ["a card with nullable, closed and unbounded columns", variant()],
  ] as const) {
    it(`check, report and JSON Schema agree on every body (${name})`, () => {
      const { validator, json } = derived(c);
      const seen = { accepted: 0, rejected: 0 };
      fc.assert(
        fc.property(bodies(c), (b) => {
          const accepted = validator.accepts(b);
          expect(validator.errors(b).length === 0).toBe(accepted);
          // JSON Schema speaks of JSON: compare on the body the server would have parsed.
          const wire = JSON.parse(JSON.stringify(b) ?? "null");
          expect(json(wire), JSON.stringify(wire)).toBe(validator.accepts(wire));
          seen[accepted ? "accepted" : "rejected"]++;
        }),
        { numRuns: Number(process.env.FC_RUNS ?? 3000) },
      );
      // Both sides of the boundary were explored.
      expect(seen.accepted).toBeGreaterThan(100);
      expect(seen.rejected).toBeGreaterThan(100);
    });
  }
});

describe("field errors", () => {
  const small: ModelCard = parseModelCard({
    formatVersion: 1,
    digest: "0".repeat(64),
    name: "small",
    schema: {
      idColumn: "id",
      target: { column: "churned" },
      drop: ["note"],
      features: [
        { name: "age", type: "integer", min: 18, max: 100 },
        { name: "plan", type: "categorical", values: ["basic", "gold"], unseen: "error" },
        { name: "active", type: "boolean", nullable: true },
        { name: "spend", type: "numeric", min: 0, nullable: true },
      ],
    },
    features: {
      raw: ["age", "plan", "active", "spend"],
      encoded: ["age", "plan", "active", "spend"],
      encodedToRaw: [0, 1, 2, 3],
    },
    threshold: { value: 0.5 },
  });
  const request = compileValidator(
    scoreRequestShape(instanceShape(small), { maxInstances: 2, maxExplainRows: 2 }),
  );
  const instance = compileValidator(instanceShape(small));
  const ok = { age: 40, plan: "gold", active: 1, spend: 12.5 };
  const errorsOf = (row: Record<string, unknown>) =>
    instance.errors({ ...ok, ...row }).map((e) => `${e.field}: ${e.message}`);

  it("names the type expected and the value given", () => {
    expect(errorsOf({ age: "42", active: "yes", id: null })).toEqual([
      'age: expected an integer, got the string "42"',
      'active: expected true, false, 0 or 1, got the string "yes"',
      "id: expected a string or number, got null",
    ]);
    // not "expected a number, got a number" (a Parquet file's infinity)
    expect(errorsOf({ spend: Number.POSITIVE_INFINITY, age: Number.NaN })).toEqual([
      "age: expected an integer, got NaN",
      "spend: expected a number, got Infinity",
    ]);
  });

  it("stops at a fraction but reports the range of an inexact integer", () => {
    expect(errorsOf({ age: 150.5 })).toEqual([
      "age: expected an integer (at most 2^53 - 1 in magnitude)",
    ]);
    expect(errorsOf({ age: 2 ** 60 })).toEqual([
      "age: expected an integer (at most 2^53 - 1 in magnitude)",
      "age: must be <= 100",
    ]);
    expect(errorsOf({ spend: -1 })).toEqual(["spend: must be >= 0"]);
  });

  it("refuses a number the model's float32 input cannot hold, as the trainer does", () => {
    // 1e308 used to be scored as +Infinity; the trainer refuses it in training data
    const limit = 2 ** 128 - 2 ** 103; // float32's largest plus half its last step
    expect(errorsOf({ spend: 1e308 })).toEqual([
      `spend: must be within float32's range (|x| < ${limit}), the model's input type`,
    ]);
    expect(errorsOf({ spend: -limit })).toHaveLength(2);
    expect(instance.accepts({ ...ok, spend: 3.4028235e38 })).toBe(true);
    expect(instance.accepts({ ...ok, spend: limit })).toBe(false);
    expect(Math.fround(limit)).toBe(Number.POSITIVE_INFINITY);
    expect(Number.isFinite(Math.fround(limit - 2 ** 76))).toBe(true);
  });

  it("tells an empty or unknown category, and a non-string with a length both things", () => {
    expect(errorsOf({ plan: "" })).toEqual([
      "plan: must not be empty",
      'plan: unknown category; expected one of "basic", "gold"',
    ]);
    expect(errorsOf({ plan: [] })).toEqual([
      "plan: expected a string, got an array",
      "plan: must not be empty",
    ]);
  });

  it("requires non-nullable columns, takes null or nothing for nullable ones, ignores passive ones", () => {
    const { age: _, ...noAge } = ok;
    expect(instance.errors(noAge)).toEqual([{ field: "age", message: "is required" }]);
    expect(instance.accepts({ ...ok, active: null, spend: undefined })).toBe(true);
    expect(instance.accepts({ ...ok, churned: [1], note: null, id: "c-1" })).toBe(true);
  });

  it("lists unknown keys after the fields of their object, and refuses a wrong-sized batch whole", () => {
    const fields = (body: unknown) => request.errors(body).map((e) => e.field);
    expect(
      fields({ colour: 1, instances: [{ ...ok, age: 1, x: 1, y: 2 }, ok], explain: 1 }),
    ).toEqual(["instances[0].age", "instances[0].x", "instances[0].y", "explain", "colour"]);
    expect(request.errors({ instances: [{ age: 1 }, ok, ok] })).toEqual([
      { field: "instances", message: "holds more than the limit of 2 instances per request" },
    ]);
    expect(request.errors([])).toEqual([
      { field: "(body)", message: 'expected a JSON object with "instances", got an array' },
    ]);
  });

  it("stops after the problem that reaches the limit", () => {
    const bad = { ...ok, age: "x", plan: 1, z1: 1, z2: 2, z3: 3 };
    expect(instance.errors(bad, 2).map((e) => e.field)).toEqual(["age", "plan"]);
    expect(instance.errors(bad, 3).map((e) => e.field)).toEqual(["age", "plan", "z1", "z2", "z3"]);
  });
});
