import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { noProcessNode } from "../../../cluster/testing/index.js";
import type { TrainingRun } from "../../../operator/src/api/training-run.js";
import { apply } from "./support/kube.js";
import {
  noSeed,
  type OperatorEnv,
  seedCsv,
  seedTrainingRun,
  setupOperatorEnv,
} from "./support/operator-env.js";
import { waitForRunFinished } from "./support/status.js";

// The only suite that needs the seed data set (../shared, or $CHURN_SEED_CSV): checks about the
// file itself, that the example TrainingRun as committed (its path, schema and gates were
// written for it) trains it. Everything else runs on the trainer's synthetic customers.
describe.skipIf(noProcessNode || noSeed)("the seed data set with the example TrainingRun", () => {
  let env: OperatorEnv;
  let run: TrainingRun;

  beforeAll(async () => {
    env = await setupOperatorEnv("seed");
    const op = await env.startOperator("op-seed");
    // A copy in this run's temporary volume, at the example's path: a pod cannot follow a
    // symlink to a host path its mounts do not show.
    mkdirSync(join(env.dataDir, "seed"));
    copyFileSync(seedCsv, join(env.dataDir, "seed", "Customer-Churn-Records.csv"));
    await apply(
      env.client,
      seedTrainingRun(env.ns, "seed", (s) => {
        s.dataset = {
          persistentVolumeClaim: {
            claimName: "churn-data",
            path: "seed/Customer-Churn-Records.csv",
          },
        };
      }),
    );
    run = await waitForRunFinished(env.client, env.ns, "seed");
    await op.kill("SIGTERM");
  });
  afterAll(async () => env?.cleanup());

  it("validates all 10000 rows of the file, fingerprinted by its sha256", () => {
    const sha = createHash("sha256").update(readFileSync(seedCsv)).digest("hex");
    const dv = run.status?.conditions?.find((c) => c.type === "DataValidated");
    expect([dv?.status, dv?.message]).toEqual([
      "True",
      expect.stringMatching(
        new RegExp(`^all \\d+ data checks passed on 10000 rows \\(dataset sha256 ${sha}\\)$`),
      ),
    ]);
  });

  it("passes the example's gates", () => {
    expect(run.status?.phase).toBe("Succeeded");
    expect(run.status?.metrics?.rocAuc).toBeGreaterThanOrEqual(0.86);
    expect(run.status?.metrics?.f2).toBeGreaterThanOrEqual(0.68);
  });
});
