import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { trainedArtifact } from "../../test-support/trained-artifact.js";
import { parseModelCard } from "../artifact/model-card.js";
import { compileFastValidator } from "./fast-validator.js";
import { buildScoreRequestSchema } from "./request-schema.js";

const fixture = trainedArtifact();
const card = parseModelCard(JSON.parse(readFileSync(join(fixture.modelDir, "model.json"), "utf8")));
const reference = JSON.parse(readFileSync(join(fixture.modelDir, "reference.json"), "utf8")) as {
  rows: Record<string, unknown>[];
};
const MAX = 5;
const fast = compileFastValidator(card, MAX);
const zod = buildScoreRequestSchema(card, MAX);
const names = [...card.features.raw, card.schema.idColumn as string, ...(card.schema.drop ?? [])];

/** Values near every boundary the schema draws: types, ranges, integrality, categories. */
const edgy = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom(
    null,
    0,
    1,
    -1,
    0.5,
    Number.POSITIVE_INFINITY,
    -0,
    17,
    300,
    900,
    901,
    299.5,
    "",
    "France",
    "GOLD",
    "x",
    true,
    false,
  ),
  fc.double(),
  fc.integer({ min: -10, max: 1000 }),
);

describe("fast validator", () => {
  it("accepts the reference rows, like zod", () => {
    for (const row of reference.rows) {
      const body = { instances: [row] };
      expect(zod.safeParse(body).success).toBe(true);
      expect(fast(body)).toBe(body);
    }
  });

  it("accepts exactly what the zod schema accepts", () => {
    const rows = fc
      .tuple(
        fc.constantFrom(...reference.rows),
        fc.array(fc.tuple(fc.constantFrom(...names, "extra", "__proto__"), edgy), { maxLength: 3 }),
        fc.array(fc.constantFrom(...names), { maxLength: 2 }),
      )
      .map(([row, sets, drops]) => {
        const out: Record<string, unknown> = { ...row };
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
    const body = fc.oneof(
      fc.record({
        instances: fc.array(fc.constantFrom(...reference.rows), { minLength: 1, maxLength: MAX }),
      }),
      fc.record({ instances: fc.array(rows, { minLength: 0, maxLength: MAX + 1 }) }),
      fc.record({ instances: fc.array(rows, { maxLength: 2 }), explain: edgy }),
      fc.jsonValue(),
    );
    const seen = { accepted: 0, rejected: 0 };
    fc.assert(
      fc.property(body, (b) => {
        const ok = zod.safeParse(b).success;
        expect(fast(b) !== undefined).toBe(ok);
        seen[ok ? "accepted" : "rejected"]++;
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 3000) },
    );
    // Both sides of the boundary were explored.
    expect(seen.accepted).toBeGreaterThan(100);
    expect(seen.rejected).toBeGreaterThan(100);
  });
});
