import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { noProcessNode } from "../../../cluster/testing/index.js";
import type { TrainingRun } from "../../../operator/src/api/training-run.js";
import { apply } from "./support/kube.js";
import {
  exampleTrainingRun,
  noSeed,
  type OperatorEnv,
  seedCsv,
  setupOperatorEnv,
} from "./support/operator-env.js";
import { waitForRunFinished } from "./support/status.js";
import { CUSTOMERS, synthesize } from "./support/synthetic-customers.js";

// The example TrainingRun as committed: its dataset path, schema, split and gates, nothing
// changed but its namespace and the resources a process node cannot schedule against. It reads
// the seed data set (../shared, or $CHURN_SEED_CSV) when that is here, and otherwise the
// trainer's synthetic customers written at the example's path: a clone without ../shared runs
// the same checks on a file of the same columns and size.
const data = noSeed ? "synthetic customers" : "the seed data set";

describe.skipIf(noProcessNode)(`the example TrainingRun as committed, on ${data}`, () => {
  let env: OperatorEnv;
  let run: TrainingRun;
  let csv: string;

  beforeAll(async () => {
    env = await setupOperatorEnv("seed");
    const op = await env.startOperator("op-seed");
    const example = exampleTrainingRun();
    const path = example.spec.dataset.persistentVolumeClaim?.path;
    if (!path) throw new Error("examples/training-run-bank.yaml no longer reads a PVC path");
    // A copy in this run's temporary volume: a pod cannot follow a symlink to a host path its
    // mounts do not show.
    csv = join(env.dataDir, path);
    mkdirSync(dirname(csv), { recursive: true });
    if (noSeed) synthesize(csv, CUSTOMERS);
    else copyFileSync(seedCsv, csv);
    example.metadata = { ...example.metadata, namespace: env.ns };
    delete example.spec.resources;
    await apply(env.client, example);
    run = await waitForRunFinished(env.client, env.ns, example.metadata.name ?? "");
    await op.kill("SIGTERM");
  });
  afterAll(async () => env?.cleanup());

  it("validates every row of the file, fingerprinted by its sha256", () => {
    const sha = createHash("sha256").update(readFileSync(csv)).digest("hex");
    const dv = run.status?.conditions?.find((c) => c.type === "DataValidated");
    expect([dv?.status, dv?.message]).toEqual([
      "True",
      expect.stringMatching(
        new RegExp(`^all \\d+ data checks passed on 10000 rows \\(dataset sha256 ${sha}\\)$`),
      ),
    ]);
  });

  it("passes the example's own gates", () => {
    const gates = exampleTrainingRun().spec.gates;
    expect(run.status?.phase).toBe("Succeeded");
    expect(run.status?.metrics?.rocAuc).toBeGreaterThanOrEqual(gates?.minRocAuc ?? 1);
    expect(run.status?.metrics?.f2).toBeGreaterThanOrEqual(gates?.minF2 ?? 1);
    expect(run.status?.metrics?.rocAuc).toBeLessThanOrEqual(gates?.maxRocAuc ?? 0);
  });
});
