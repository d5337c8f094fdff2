import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cachedBinaries } from "../../../cluster/build-binaries.js";
import { noProcessNode, testCluster } from "../../../cluster/testing/index.js";
import type { TrainingRun } from "../../../operator/src/api/training-run.js";
import { apply } from "./support/kube.js";
import { type OperatorEnv, seedTrainingRun, setupOperatorEnv } from "./support/operator-env.js";
import type { OperatorProcess } from "./support/operator-process.js";
import { waitForRunFinished } from "./support/status.js";

// Issue 13 on the local cluster: a TrainingRun that searches its hyperparameters (a few quick
// trials), stops early, calibrates isotonically and reports segments shows in its status the
// parameters chosen, the Brier score and the worst segment; the same run with a segment gate
// nobody can pass fails naming the segment; `kubectl get tr` shows both at a glance.

/** The example run with a small search, early stopping, calibration, segments and `gap`. */
function searchedRun(ns: string, name: string, gap: number): TrainingRun {
  return seedTrainingRun(ns, name, (s) => {
    s.model = {
      ...s.model,
      hyperparameters: { ...s.model?.hyperparameters, n_estimators: 200 },
      search: {
        trials: 3,
        folds: 3,
        metric: "rocAuc",
        space: {
          max_depth: { int: [2, 4] },
          learning_rate: { float: [0.05, 0.2], log: true },
        },
      },
      earlyStopping: { rounds: 10 },
    };
    s.calibration = { method: "isotonic" };
    s.segments = ["Geography", "Gender"];
    s.gates = { ...s.gates, maxSegmentF2Gap: gap };
  });
}

describe.skipIf(noProcessNode)("TrainingRun with search, calibration and segments", () => {
  let env: OperatorEnv;
  let op: OperatorProcess;
  let searched: TrainingRun;
  let gated: TrainingRun;

  beforeAll(async () => {
    env = await setupOperatorEnv("search");
    op = await env.startOperator("op-search");
    await apply(env.client, searchedRun(env.ns, "searched", 0.5));
    // A gap no segment can stay under: every declared segment differs from the overall F2.
    await apply(env.client, searchedRun(env.ns, "gated", 0));
    [searched, gated] = await Promise.all([
      waitForRunFinished(env.client, env.ns, "searched"),
      waitForRunFinished(env.client, env.ns, "gated"),
    ]);
  }, 900_000);

  afterAll(async () => {
    await env?.cleanup();
  });

  it("shows the chosen parameters with their CV score, the Brier score and the worst segment", () => {
    expect(searched.status?.phase, op.tail()).toBe("Succeeded");
    const m = searched.status?.metrics;
    expect(m?.calibration).toBe("isotonic");
    expect(m?.brier).toBeGreaterThan(0);
    expect(m?.brier).toBeLessThan(0.25); // better than answering 0.5 for everyone
    const search = m?.search;
    expect(search?.trials).toBe(3);
    expect(search?.metric).toBe("rocAuc");
    expect(Object.keys(search?.parameters ?? {}).sort()).toEqual(["learning_rate", "max_depth"]);
    const depth = Number(search?.parameters.max_depth);
    expect(depth).toBeGreaterThanOrEqual(2);
    expect(depth).toBeLessThanOrEqual(4);
    expect(search?.cvMean).toBeGreaterThan(0.5);
    expect(search?.cvStd).toBeGreaterThanOrEqual(0);
    expect(m?.worstSegment?.name).toMatch(/^(Geography|Gender)=/);
    expect(m?.worstSegment?.gap).toBeCloseTo((m?.f2 ?? 0) - (m?.worstSegment?.f2 ?? 0), 5);
  });

  it("fails a segment gate naming the segment", () => {
    expect(gated.status?.phase, op.tail()).toBe("Failed");
    const validated = gated.status?.conditions?.find((c) => c.type === "ModelValidated");
    expect([validated?.status, validated?.reason]).toEqual(["False", "GateFailed"]);
    expect(validated?.message).toMatch(
      /maxSegmentF2Gap: observed 0\.\d+ \(needs <= 0\) in segment (Geography|Gender)=\w+/,
    );
  });

  /** `kubectl get tr` in the suite's namespace: the header's columns and each run's cells. */
  function getTr(...flags: string[]): { head: string[]; rows: Record<string, string[]> } {
    const kubectl = cachedBinaries()?.kubectl ?? "kubectl";
    const r = spawnSync(kubectl, ["get", "tr", "-n", env.ns, ...flags], {
      encoding: "utf8",
      env: { ...process.env, KUBECONFIG: testCluster().kubeconfig },
    });
    expect(r.status, r.stderr).toBe(0);
    const [head, ...lines] = r.stdout.trim().split("\n");
    const cells = lines.map((l) => l.split(/\s+/));
    return {
      head: head?.split(/\s{2,}/) ?? [],
      rows: Object.fromEntries(cells.map((c) => [c[0], c])),
    };
  }

  it("kubectl get tr shows each run's phase and ROC-AUC, one line each; -o wide its Brier and worst segment", () => {
    const { head, rows } = getTr();
    expect(head).toEqual(["NAME", "PHASE", "ROC-AUC", "MODEL", "AGE"]);
    expect(rows.searched?.[1]).toBe("Succeeded");
    expect(rows.gated?.[1]).toBe("Failed");
    expect(Number(rows.searched?.[2])).toBeCloseTo(searched.status?.metrics?.rocAuc ?? 0, 3);
    const wide = getTr("-o", "wide");
    expect(wide.head).toEqual([
      ...["NAME", "PHASE", "ROC-AUC", "F2", "BRIER", "WORST-SEGMENT"],
      ...["DIGEST", "MODEL", "AGE"],
    ]);
    const m = searched.status?.metrics;
    expect(Number(wide.rows.searched?.[4])).toBeCloseTo(m?.brier ?? 0, 3);
    expect(wide.rows.searched?.[5]).toBe(m?.worstSegment?.name);
  });
});
