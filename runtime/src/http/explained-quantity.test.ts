// An explanation says what it explains: logit(probability), or under isotonic calibration the
// trees' margin before the calibration map (which is not logit(probability)).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { type JsonBody, post, startTestServer } from "../../test-support/test-server.js";
import { repoRoot, trainedArtifact } from "../../test-support/trained-artifact.js";
import type { Reference } from "../artifact/artifact.js";
import type { RunningServer } from "./server.js";

const fixture = trainedArtifact();
const logit = (p: number) => Math.log(p / (1 - p));

/** The trainer's example spec with isotonic calibration and no gates, trained on `data`. */
function trainIsotonic(dir: string, data: string): string {
  const spec = parse(
    readFileSync(join(repoRoot, "trainer", "examples", "bank-churn.yaml"), "utf8"),
  );
  spec.calibration = { method: "isotonic" };
  spec.model.hyperparameters.n_estimators = 60;
  delete spec.gates;
  writeFileSync(join(dir, "spec.yaml"), stringify(spec));
  const store = join(dir, "store");
  execFileSync(
    join(repoRoot, ".venv", "bin", "python"),
    [
      "-m",
      "churn_trainer",
      "train",
      "--spec",
      join(dir, "spec.yaml"),
      "--data",
      data,
      "--output",
      store,
    ],
    { cwd: repoRoot, stdio: "ignore", timeout: 600_000 },
  );
  const [digest] = readdirSync(store);
  return join(store, digest as string);
}

/** The first reference rows of `modelDir`. */
const probeRows = (modelDir: string) =>
  (JSON.parse(readFileSync(join(modelDir, "reference.json"), "utf8")) as Reference).rows.slice(
    0,
    20,
  );

/** /v1/explain on the first reference rows of `modelDir`. */
async function explained(srv: RunningServer, modelDir: string): Promise<JsonBody> {
  return (await post(`${srv.url}/v1/explain`, { instances: probeRows(modelDir) })).body;
}

describe("what an explanation explains", () => {
  const dir = mkdtempSync(join(tmpdir(), "churn-isotonic-"));
  let sigmoid: RunningServer;
  let isotonic: RunningServer;
  let isotonicDir: string;

  beforeAll(async () => {
    isotonicDir = trainIsotonic(dir, fixture.dataCsv);
    sigmoid = await startTestServer(fixture.modelDir);
    isotonic = await startTestServer(isotonicDir);
  }, 600_000);
  afterAll(async () => {
    await Promise.all([sigmoid?.close(), isotonic?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("sigmoid calibration: probability-log-odds, logOdds = logit(probability)", async () => {
    const body = await explained(sigmoid, fixture.modelDir);
    expect(body.explains).toBe("probability-log-odds");
    for (const p of body.predictions) {
      expect(p.explanation.logOdds).toBeCloseTo(logit(p.probability), 4);
    }
    // Scores without explanations say nothing about them.
    const scored = await post(`${sigmoid.url}/v1/score`, {
      instances: probeRows(fixture.modelDir),
    });
    expect(scored.status).toBe(200);
    expect(scored.body.explains).toBeUndefined();
  });

  it("isotonic calibration: uncalibrated-margin, ordered like the probability but not its logit", async () => {
    const body = await explained(isotonic, isotonicDir);
    expect(body.explains).toBe("uncalibrated-margin");
    const rows = body.predictions.map((p: JsonBody) => ({
      margin: p.explanation.logOdds as number,
      probability: p.probability as number,
    }));
    // Not logit(probability): the calibration map comes after the explained sum...
    expect(rows.some((r: JsonBody) => Math.abs(r.margin - logit(r.probability)) > 0.05)).toBe(true);
    // ...but a monotone one: a higher margin never has a lower probability.
    rows.sort((a: JsonBody, b: JsonBody) => a.margin - b.margin);
    for (let i = 1; i < rows.length; i++) {
      expect(rows[i].probability).toBeGreaterThanOrEqual(rows[i - 1].probability - 1e-6);
    }
  });
});
