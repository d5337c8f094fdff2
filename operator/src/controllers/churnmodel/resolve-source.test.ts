import { describe, expect, it } from "vitest";
import type { ChurnModel } from "../../api/churn-model.js";
import type { TrainingRun } from "../../api/training-run.js";
import { resolveSource } from "./resolve-source.js";

const d = (c: string) => c.repeat(64);
const model = (source: ChurnModel["spec"]["source"], name = "bank"): ChurnModel => ({
  metadata: { name, namespace: "ns", uid: "u" },
  spec: { source, replicas: 1, explanations: { enabled: true } },
});
const run = (
  name: string,
  opts: {
    phase?: string;
    digest?: string;
    done?: string;
    labels?: Record<string, string>;
    modelRef?: string;
    ns?: string;
  } = {},
): TrainingRun =>
  ({
    metadata: {
      name,
      namespace: opts.ns ?? "ns",
      labels: opts.labels,
      creationTimestamp: "2026-11-28T03:00:00Z",
    },
    spec: { modelRef: opts.modelRef ? { name: opts.modelRef } : undefined },
    status: {
      phase: opts.phase ?? "Succeeded",
      completionTime: opts.done,
      model: opts.digest ? { uri: `pvc://m/${opts.digest}`, digest: opts.digest } : undefined,
      conditions:
        (opts.phase ?? "Succeeded") === "Succeeded"
          ? [
              {
                type: "ModelValidated",
                status: "True",
                reason: "GatesPassed",
                message: "",
                lastTransitionTime: "",
              },
            ]
          : [],
    },
  }) as unknown as TrainingRun;

describe("resolveSource", () => {
  it("serves an explicit artifact", () => {
    const r = resolveSource(model({ artifact: { uri: `pvc://m/${d("a")}`, digest: d("a") } }), []);
    expect(r.state === "resolved" && r.version).toEqual({
      digest: d("a"),
      uri: `pvc://m/${d("a")}`,
    });
  });
  it("rejects an unsupported artifact scheme, naming it", () => {
    const r = resolveSource(model({ artifact: { uri: "s3://b/x", digest: d("a") } }), []);
    expect([r.state, r.reason]).toEqual(["failed", "InvalidSpec"]);
    expect(r.message).toContain("s3://");
  });
  it.each([
    ["missing run", [], "waiting", "SourceNotFound"],
    ["run still training", [run("r1", { phase: "Training" })], "waiting", "SourceNotReady"],
    ["run failed", [run("r1", { phase: "Failed" })], "failed", "SourceFailed"],
    [
      "run in another namespace",
      [run("r1", { digest: d("b"), ns: "other" })],
      "waiting",
      "SourceNotFound",
    ],
    ["run succeeded", [run("r1", { digest: d("b") })], "resolved", "SourceResolved"],
  ] as const)("trainingRun source: %s", (_n, runs, state, reason) => {
    const r = resolveSource(model({ trainingRun: { name: "r1" } }), runs);
    expect([r.state, r.reason]).toEqual([state, reason]);
  });
  it("latestFrom picks the newest servable candidate by completion time", () => {
    const runs = [
      run("old", { digest: d("1"), done: "2026-11-28T04:00:00Z", modelRef: "bank" }),
      run("new", { digest: d("2"), done: "2026-11-28T05:00:00Z", labels: { team: "risk" } }),
      run("newer-but-failed", { phase: "Failed", done: "2026-11-28T06:00:00Z", modelRef: "bank" }),
      run("newest-other-model", {
        digest: d("3"),
        done: "2026-11-28T07:00:00Z",
        modelRef: "other",
      }),
    ];
    const r = resolveSource(
      model({ latestFrom: { selector: { matchLabels: { team: "risk" } } } }),
      runs,
    );
    expect(r.state === "resolved" && r.version).toEqual({
      digest: d("2"),
      uri: `pvc://m/${d("2")}`,
      trainingRun: "new",
    });
    const byRef = resolveSource(model({ latestFrom: {} }), runs);
    expect(byRef.state === "resolved" && byRef.version.trainingRun).toBe("old");
  });
  it("latestFrom waits when nothing qualifies", () => {
    const r = resolveSource(model({ latestFrom: {} }), [
      run("x", { phase: "Training", modelRef: "bank" }),
    ]);
    expect([r.state, r.reason]).toEqual(["waiting", "NoCandidate"]);
  });
});
