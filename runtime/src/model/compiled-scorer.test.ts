import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { get, startTestServer } from "../../test-support/test-server.js";
import {
  BANK,
  BANK_ISOTONIC,
  type FixtureVariant,
  TELECOM,
  trainedArtifact,
} from "../../test-support/trained-artifact.js";
import {
  type FeatureSpec,
  type ModelCard,
  parseModelCard,
  rawFeatureSpecs,
} from "../artifact/model-card.js";
import { readTreeEnsemble } from "../explain/onnx-trees.js";
import { CompiledScorer } from "./compiled-scorer.js";
import { CompiledTrees } from "./compiled-trees.js";
import { chooseEngine, compareOutputs, ENGINE_TOLERANCE } from "./engine-choice.js";
import { OnnxScorer } from "./onnx-scorer.js";

type Loaded = {
  card: ModelCard;
  bytes: Uint8Array;
  reference: { rows: Record<string, unknown>[] };
  onnx: OnnxScorer;
};
const opened: OnnxScorer[] = [];
afterAll(async () => {
  for (const s of opened) await s.close();
});

async function load(variant: FixtureVariant): Promise<Loaded> {
  const dir = trainedArtifact(variant).modelDir;
  const card = parseModelCard(JSON.parse(readFileSync(join(dir, "model.json"), "utf8")));
  const bytes = readFileSync(join(dir, "model.onnx"));
  const onnx = await OnnxScorer.create(bytes, card);
  opened.push(onnx);
  const reference = JSON.parse(readFileSync(join(dir, "reference.json"), "utf8"));
  return { card, bytes, reference, onnx };
}

/** Any value a raw column may hold, valid or not, biased towards the schema's own. */
function hostileValue(spec: FeatureSpec): fc.Arbitrary<unknown> {
  const odd = fc.constantFrom(null, "", " ", "ünïcødé ☃ 🚀", "\u0000", "__never_seen__", true, 0);
  if (spec.type === "categorical" || spec.type === "ordinal") {
    const cats = spec.type === "categorical" ? spec.values : spec.order;
    return fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...cats) },
      { weight: 2, arbitrary: odd },
      { weight: 1, arbitrary: fc.string() },
      { weight: 1, arbitrary: fc.constantFrom(...cats).map((c) => c.toLowerCase()) },
    );
  }
  return fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: -10, max: 200_000 }) },
    { weight: 3, arbitrary: fc.double() }, // NaN, ±Infinity, ±0, huge and tiny included
    { weight: 1, arbitrary: fc.float() },
    { weight: 1, arbitrary: fc.constantFrom(3.5e38, -3.5e38, Number.MAX_VALUE, 1e-45) },
    { weight: 1, arbitrary: odd },
  );
}

/** Rows of hostile values; any column may be left out. */
function hostileRows(card: ModelCard): fc.Arbitrary<Record<string, unknown>[]> {
  const specs = rawFeatureSpecs(card);
  const row = fc.record(Object.fromEntries(specs.map((s) => [s.name, hostileValue(s)])), {
    requiredKeys: [],
  });
  return fc.array(row, { minLength: 1, maxLength: 64 });
}

const models: [string, FixtureVariant, string][] = [
  ["the bank model (sigmoid calibration folded into the leaves)", BANK, "sigmoid"],
  ["the bank model with isotonic calibration after the trees", BANK_ISOTONIC, "isotonic"],
  ["the telecom model (Yes/No columns, an imputed category)", TELECOM, "none"],
];

describe.each(models)("the compiled engine on %s", (_title, variant, calibration) => {
  it("is the model the test means to cover", async () => {
    const { card } = await load(variant);
    expect((card.calibration as { method?: string } | undefined)?.method ?? "none").toBe(
      calibration,
    );
  });

  it.each([
    ["branch-free generated code", { generateCode: true }],
    ["generated nested comparisons", { generateCode: true, maxBitmaskLeaves: 0 }],
    ["the array walk", { generateCode: false }],
  ])(
    "reproduces onnxruntime's probabilities and encoded features on hostile rows (%s)",
    async (_mode, options) => {
      const { card, bytes, onnx } = await load(variant);
      const compiled = new CompiledScorer(card, readTreeEnsemble(bytes), options);
      expect(compiled.treeMode).toBe(options.generateCode ? "generated" : "arrays");
      const width = card.features.encoded.length;
      await fc.assert(
        fc.asyncProperty(hostileRows(card), async (rows) => {
          const expected = await onnx.score(rows, true);
          const got = compiled.scoreNow(rows, true);
          const cmp = compareOutputs(expected, got, width);
          expect(cmp.featureMismatchRow).toBe(-1);
          expect(cmp.maxProbabilityDiff).toBeLessThanOrEqual(ENGINE_TOLERANCE);
          expect(got.unknownCategories).toEqual(expected.unknownCategories);
        }),
        { numRuns: 150 },
      );
    },
  );

  it("gives the same margins bit for bit at every batch size, in every tree mode", async () => {
    const { card, bytes, onnx, reference } = await load(variant);
    const ensemble = readTreeEnsemble(bytes);
    const sampled = fc.sample(hostileRows(card), { numRuns: 40, seed: 11 }).flat();
    const rows = [...reference.rows, ...sampled].slice(0, 300);
    expect(rows.length).toBe(300);
    const compiled = new CompiledScorer(card, ensemble);
    const width = card.features.encoded.length;
    const expected = await onnx.score(rows, true);
    // Large batches run tree blocks over row blocks: across the blocks' edges too.
    const got = compiled.scoreNow(rows, true);
    expect(compareOutputs(expected, got, width).maxProbabilityDiff).toBeLessThanOrEqual(
      ENGINE_TOLERANCE,
    );
    const x = got.features as Float32Array;
    const walk = new CompiledTrees(ensemble, { generateCode: false });
    const oneByOne = new Float64Array(rows.length);
    for (let r = 0; r < rows.length; r++) {
      walk.margins(x.subarray(r * width), 1, width, oneByOne.subarray(r));
    }
    for (const options of [{}, { maxBitmaskLeaves: 0 }, { generateCode: false }]) {
      const trees = new CompiledTrees(ensemble, options);
      for (const n of [1, 2, 3, 4, 5, 127, 128, 129, 257, rows.length]) {
        const out = new Float64Array(n + 1).fill(7);
        trees.margins(x, n, width, out);
        expect(out.subarray(0, n)).toEqual(oneByOne.subarray(0, n));
        expect(out[n]).toBe(7);
      }
    }
  });

  it("serves: chooseEngine picks it on the artifact's and the hostile probe rows", async () => {
    const { card, bytes, onnx, reference } = await load(variant);
    const choice = await chooseEngine("auto", card, readTreeEnsemble(bytes), onnx, {
      ...reference,
    } as never);
    expect(choice.verdict.engine).toBe("compiled");
    expect(choice.verdict.trees).toBe("generated");
    expect(choice.verdict.rows).toBeGreaterThan(reference.rows.length);
    expect(choice.verdict.maxProbabilityDiff).toBeLessThanOrEqual(ENGINE_TOLERANCE);
    expect(choice.scorer).toBe(choice.compiled);
  });
});

describe("the engine choice", () => {
  it("keeps onnxruntime when the setting forces it", async () => {
    const { card, bytes, onnx, reference } = await load(BANK);
    const choice = await chooseEngine("onnxruntime", card, readTreeEnsemble(bytes), onnx, {
      ...reference,
    } as never);
    expect(choice.verdict).toMatchObject({ engine: "onnxruntime", reason: /forced/ });
    expect(choice.scorer).toBe(onnx);
  });

  it("falls back to onnxruntime when model.json's ordinal map disagrees with the graph", async () => {
    const { card, bytes, onnx, reference } = await load(TELECOM);
    const tampered = structuredClone(card) as ModelCard & {
      features: { encoders: { kind: string; categories?: string[] }[] };
    };
    // The ordinal map in reverse: same encoded names, different values.
    const ordinal = tampered.features.encoders.find((e) => e.kind === "ordinal");
    ordinal?.categories?.reverse();
    const choice = await chooseEngine("auto", tampered, readTreeEnsemble(bytes), onnx, {
      ...reference,
    } as never);
    expect(choice.verdict.engine).toBe("onnxruntime");
    expect(choice.verdict.reason).toMatch(/encodes probe row \d+ differently/);
    expect(choice.scorer).toBe(onnx);
  });

  it("falls back when the compiled calibration would differ from the graph's", async () => {
    const { card, bytes, onnx, reference } = await load(BANK_ISOTONIC);
    const tampered = structuredClone(card) as ModelCard & { calibration: { values: number[] } };
    tampered.calibration.values = tampered.calibration.values.map((v) => v * 0.9);
    const choice = await chooseEngine("auto", tampered, readTreeEnsemble(bytes), onnx, {
      ...reference,
    } as never);
    expect(choice.verdict.engine).toBe("onnxruntime");
    expect(choice.verdict.reason).toMatch(/differs from onnxruntime by .* on probe row/);
  });

  it("falls back when the model uses what the compiled engine does not implement", async () => {
    const { card, bytes, onnx, reference } = await load(BANK);
    const tampered = { ...card, calibration: { method: "beta" } } as unknown as ModelCard;
    const choice = await chooseEngine("auto", tampered, readTreeEnsemble(bytes), onnx, {
      ...reference,
    } as never);
    expect(choice.verdict).toMatchObject({
      engine: "onnxruntime",
      reason: /cannot run this model/,
    });
  });
});

describe("a server whose artifact the compiled engine does not reproduce", () => {
  const dir = mkdtempSync(join(tmpdir(), "churn-engine-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("scores with onnxruntime and says so in /readyz and /metrics", async () => {
    const source = trainedArtifact(TELECOM).modelDir;
    const modelDir = join(dir, "model");
    cpSync(source, modelDir, { recursive: true });
    const cardPath = join(modelDir, "model.json");
    const card = JSON.parse(readFileSync(cardPath, "utf8"));
    const ordinal = card.features.encoders.find((e: { kind: string }) => e.kind === "ordinal");
    ordinal.categories.reverse();
    writeFileSync(cardPath, JSON.stringify(card));
    const srv = await startTestServer(modelDir);
    try {
      const ready = await get(`${srv.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(ready.body.selfCheck.scoringEngine).toMatchObject({
        engine: "onnxruntime",
        reason: expect.stringMatching(/differently from onnxruntime/),
      });
      const metrics = await get(`${srv.url}/metrics`);
      expect(metrics.body).toContain('churn_runtime_scoring_engine{engine="onnxruntime"} 1');
      expect(metrics.body).toContain('churn_runtime_scoring_engine{engine="compiled"} 0');
    } finally {
      await srv.close();
    }
  });

  it("serves the untouched artifact with the compiled engine", async () => {
    const srv = await startTestServer(trainedArtifact(TELECOM).modelDir);
    try {
      const ready = await get(`${srv.url}/readyz`);
      expect(ready.body.selfCheck.scoringEngine.engine).toBe("compiled");
      const metrics = await get(`${srv.url}/metrics`);
      expect(metrics.body).toContain('churn_runtime_scoring_engine{engine="compiled"} 1');
    } finally {
      await srv.close();
    }
  });
});
