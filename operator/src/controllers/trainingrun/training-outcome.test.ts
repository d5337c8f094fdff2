import { describe, expect, it } from "vitest";
import { pvcArtifactUri } from "../../api/artifact-uri.js";
import type { JobObservation, PodObservation } from "./training-observation.js";
import { decideTrainingOutcome } from "./training-outcome.js";

const digest = "cd".repeat(32);
const job = (over: Partial<JobObservation> = {}): JobObservation => ({
  name: "bank-train",
  active: 1,
  failed: 0,
  succeeded: 0,
  startTime: "2026-11-28T04:00:00Z",
  conditions: [],
  ...over,
});
const finished = (type: "Complete" | "Failed", reason?: string, message?: string) => [
  { type, status: "True", reason, message, time: "2026-11-28T04:05:00Z" },
];
const pod = (name: string, over: Partial<PodObservation> = {}): PodObservation => ({
  name,
  phase: "Running",
  createdAt: `2026-11-28T04:0${name.length % 10}:00Z`,
  running: false,
  ...over,
});
const exited = (code: number, message?: string): Partial<PodObservation> => ({
  phase: code === 0 ? "Succeeded" : "Failed",
  terminated: { exitCode: code, message, finishedAt: "2026-11-28T04:04:00Z" },
});
const ok = JSON.stringify({
  status: "succeeded",
  digest,
  metrics: { rocAuc: 0.8712, prAuc: 0.7, f2: 0.69, threshold: 0.3 },
});
const leak = JSON.stringify({
  status: "validationFailed",
  failedChecks: [{ name: "leakage", column: "Complain", message: "ROC-AUC 0.998 > 0.95" }],
});
const gate = JSON.stringify({
  status: "gateFailed",
  metrics: { rocAuc: 0.8 },
  failedGates: [{ name: "minRocAuc", observed: 0.8, op: ">=", threshold: 0.9 }],
});

const decide = (j: JobObservation | undefined, pods: PodObservation[]) =>
  decideTrainingOutcome(j, pods, (d) => pvcArtifactUri("churn-models", d), 3);
const cond = (o: ReturnType<typeof decide>, type: string) =>
  o.conditions.find((c) => c.type === type);

describe("decideTrainingOutcome", () => {
  it("is Pending before the Job exists", () => {
    const o = decide(undefined, []);
    expect([o.phase, o.reason, o.terminal]).toEqual(["Pending", "NotStarted", false]);
  });
  it("is Pending while the pod waits, naming why", () => {
    const o = decide(job(), [
      pod("p", { phase: "Pending", waiting: { reason: "ContainerCreating" } }),
    ]);
    expect([o.phase, o.reason]).toEqual(["Pending", "TrainerPending"]);
    expect(o.message).toContain("ContainerCreating");
  });
  it("stays Training between the trainer's exit 0 and the Job's Complete condition", () => {
    const o = decide(job({ active: 0, succeeded: 1 }), [pod("p", exited(0, ok))]);
    expect([o.phase, o.reason, o.terminal]).toEqual(["Training", "TrainerRunning", false]);
  });
  it("is Training while the trainer runs", () => {
    const o = decide(job(), [pod("p", { running: true })]);
    expect([o.phase, o.reason, o.terminal]).toEqual(["Training", "TrainerRunning", false]);
  });
  it("succeeds with metrics, a pvc:// model and every condition True", () => {
    const o = decide(job({ active: 0, succeeded: 1, conditions: finished("Complete") }), [
      pod("p", exited(0, ok)),
    ]);
    expect([o.phase, o.reason, o.terminal]).toEqual(["Succeeded", "Succeeded", true]);
    expect(o.model).toEqual({ uri: `pvc://churn-models/${digest}`, digest });
    expect(o.metrics).toEqual({ rocAuc: 0.8712, prAuc: 0.7, f2: 0.69, threshold: 0.3 });
    expect(o.conditions.map((c) => [c.type, c.status])).toEqual([
      ["DataValidated", "True"],
      ["Trained", "True"],
      ["ModelValidated", "True"],
      ["Succeeded", "True"],
    ]);
    expect(o.conditions.every((c) => c.observedGeneration === 3)).toBe(true);
    expect(o.completionTime).toBe("2026-11-28T04:05:00Z");
  });
  it("carries calibration, the worst segment and the search's choice into status", () => {
    const line = JSON.stringify({
      status: "succeeded",
      digest,
      metrics: { rocAuc: 0.88, f2: 0.72, brier: 0.1, threshold: 0.18 },
      calibration: "sigmoid",
      worstSegment: { name: "Geography=Spain", f2: 0.69, gap: 0.03 },
      search: { trials: 15, metric: "rocAuc", cvMean: 0.86, cvStd: 0.01, best: { max_depth: 4 } },
    });
    const o = decide(job({ active: 0, succeeded: 1, conditions: finished("Complete") }), [
      pod("p", exited(0, line)),
    ]);
    expect(o.metrics).toEqual({
      rocAuc: 0.88,
      f2: 0.72,
      brier: 0.1,
      threshold: 0.18,
      calibration: "sigmoid",
      worstSegment: { name: "Geography=Spain", f2: 0.69, gap: 0.03 },
      search: {
        trials: 15,
        metric: "rocAuc",
        cvMean: 0.86,
        cvStd: 0.01,
        parameters: { max_depth: 4 },
      },
    });
    expect(o.message).toContain("worst segment Geography=Spain F2 0.6900");
  });
  it("names the segment of a failed segment gate", () => {
    const line = JSON.stringify({
      status: "gateFailed",
      metrics: { f2: 0.7 },
      failedGates: [
        {
          name: "maxSegmentF2Gap",
          observed: 0.2,
          op: "<=",
          threshold: 0.15,
          segment: "Gender=Male",
        },
      ],
    });
    const o = decide(job({ active: 0, failed: 1 }), [pod("p", exited(3, line))]);
    expect([o.phase, o.reason]).toEqual(["Failed", "GateFailed"]);
    expect(o.failedChecks).toEqual([
      "maxSegmentF2Gap: observed 0.2000 (needs <= 0.15) in segment Gender=Male",
    ]);
  });
  it("fails terminally on a data check, naming the leaking column", () => {
    const o = decide(job({ active: 0, failed: 1 }), [pod("p", exited(2, leak))]);
    expect([o.phase, o.reason, o.terminal]).toEqual(["Failed", "DataValidationFailed", true]);
    expect(cond(o, "DataValidated")?.status).toBe("False");
    expect(cond(o, "DataValidated")?.message).toContain("Complain");
    expect(o.failedChecks).toEqual(["leakage[Complain]: ROC-AUC 0.998 > 0.95"]);
    expect(cond(o, "Trained")).toBeUndefined();
  });
  it("fails terminally on a gate, naming it, with the data and training conditions True", () => {
    const o = decide(
      job({ active: 0, failed: 1, conditions: finished("Failed", "PodFailurePolicy") }),
      [pod("p", exited(3, gate))],
    );
    expect([o.phase, o.reason, o.terminal]).toEqual(["Failed", "GateFailed", true]);
    expect(cond(o, "ModelValidated")?.message).toContain("minRocAuc");
    expect(cond(o, "DataValidated")?.status).toBe("True");
    expect(o.metrics?.rocAuc).toBe(0.8);
  });
  it("reports a crashed attempt as retrying while the Job still retries", () => {
    const crash = JSON.stringify({ status: "error", message: "OSError: disk full" });
    const o = decide(job({ failed: 1 }), [
      pod("p1", exited(1, crash)),
      pod("p22", { phase: "Pending" }),
    ]);
    expect([o.phase, o.reason, o.terminal, o.attempts]).toEqual([
      "Training",
      "TrainerRetrying",
      false,
      1,
    ]);
    expect(o.message).toContain("disk full");
  });
  it.each([
    ["BackoffLimitExceeded", "BackoffLimitExceeded"],
    ["DeadlineExceeded", "DeadlineExceeded"],
    ["SomethingElse", "TrainingFailed"],
  ])("fails terminally when the Job fails with %s", (jobReason, reason) => {
    const o = decide(
      job({ active: 0, failed: 3, conditions: finished("Failed", jobReason, "gave up") }),
      [pod("p", exited(1, JSON.stringify({ status: "error", message: "boom" })))],
    );
    expect([o.phase, o.reason, o.terminal]).toEqual(["Failed", reason, true]);
    expect(o.message).toContain("gave up");
    expect(o.message).toContain("exit code 1: boom");
  });
  it("fails terminally when the Job completed but the summary is unreadable", () => {
    const o = decide(job({ active: 0, succeeded: 1, conditions: finished("Complete") }), [
      pod("p", exited(0, "not json")),
    ]);
    expect([o.phase, o.reason, o.terminal]).toEqual(["Failed", "OutcomeUnreadable", true]);
  });
});

describe("decideTrainingOutcome with the data validator (init container)", () => {
  const sha = "ef".repeat(32);
  const validatedLine = JSON.stringify({
    status: "validated",
    exitCode: 0,
    rows: 10000,
    dataSha256: sha,
    checks: { passed: 59, failed: 0 },
  });
  const leakLine = JSON.stringify({
    status: "validationFailed",
    exitCode: 2,
    rows: 10000,
    dataSha256: sha,
    checks: { passed: 61, failed: 1 },
    failedChecks: [{ name: "feature.leakage", column: "Complain", message: "ROC-AUC 0.998" }],
  });
  const unreachable = JSON.stringify({ status: "error", message: "cannot fetch dataset" });
  const v = {
    waiting: (reason: string) => ({ running: false, waiting: { reason } }),
    running: { running: true },
    exited: (exitCode: number, message?: string) => ({
      running: false,
      terminated: { exitCode, message, finishedAt: "2026-11-28T04:01:00Z" },
    }),
  };
  const numbers = `all 59 data checks passed on 10000 rows (dataset sha256 ${sha})`;
  const initializing = { phase: "Pending", waiting: { reason: "PodInitializing" } };
  const conds = (o: ReturnType<typeof decide>) =>
    o.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`);

  it.each<{
    name: string;
    job?: Partial<JobObservation>;
    pods: PodObservation[];
    want: [string, string, boolean];
    conditions: string[];
    dataMessage?: string | RegExp;
  }>([
    {
      name: "validator waiting to start: Pending, naming why",
      pods: [pod("p", { phase: "Pending", validator: v.waiting("ErrImageNeverPull") })],
      want: ["Pending", "TrainerPending", false],
      conditions: ["Succeeded=Unknown/TrainerPending"],
    },
    {
      name: "validator running: Validating, DataValidated Unknown",
      pods: [pod("p", { ...initializing, validator: v.running })],
      want: ["Validating", "ValidatingData", false],
      conditions: ["DataValidated=Unknown/ValidatingData", "Succeeded=Unknown/ValidatingData"],
    },
    {
      name: "validator passed, trainer not started yet: Training, DataValidated with the numbers",
      pods: [pod("p", { ...initializing, validator: v.exited(0, validatedLine) })],
      want: ["Training", "TrainerPending", false],
      conditions: ["DataValidated=True/DataValidated", "Succeeded=Unknown/TrainerPending"],
      dataMessage: numbers,
    },
    {
      name: "validator passed, trainer running: Training",
      pods: [pod("p", { running: true, validator: v.exited(0, validatedLine) })],
      want: ["Training", "TrainerRunning", false],
      conditions: ["DataValidated=True/DataValidated", "Succeeded=Unknown/TrainerRunning"],
      dataMessage: numbers,
    },
    {
      name: "validator exit 2: Failed at once, DataValidated False naming the check",
      job: { active: 0, failed: 1 },
      pods: [pod("p", { ...initializing, phase: "Failed", validator: v.exited(2, leakLine) })],
      want: ["Failed", "DataValidationFailed", true],
      conditions: [
        "DataValidated=False/DataValidationFailed",
        "Succeeded=False/DataValidationFailed",
      ],
      dataMessage:
        "data validation failed on 10000 rows (1 of 62 checks failed): feature.leakage[Complain]: ROC-AUC 0.998",
    },
    {
      name: "validator exit 2 after the pod failure policy failed the Job: the same verdict",
      job: { active: 0, failed: 1, conditions: finished("Failed", "PodFailurePolicy") },
      pods: [pod("p", { ...initializing, phase: "Failed", validator: v.exited(2, leakLine) })],
      want: ["Failed", "DataValidationFailed", true],
      conditions: [
        "DataValidated=False/DataValidationFailed",
        "Succeeded=False/DataValidationFailed",
      ],
      dataMessage: /Complain/,
    },
    {
      name: "validator crashed (exit 1), no new pod yet: retrying, naming the validator",
      job: { active: 0, failed: 1 },
      pods: [pod("p", { ...initializing, phase: "Failed", validator: v.exited(1, unreachable) })],
      want: ["Training", "TrainerRetrying", false],
      conditions: ["Succeeded=Unknown/TrainerRetrying"],
    },
    {
      name: "validator crashed, the retry validates: Validating again",
      job: { failed: 1 },
      pods: [
        pod("p", { ...initializing, phase: "Failed", validator: v.exited(1, unreachable) }),
        pod("p22", { ...initializing, validator: v.running }),
      ],
      want: ["Validating", "ValidatingData", false],
      conditions: ["DataValidated=Unknown/ValidatingData", "Succeeded=Unknown/ValidatingData"],
    },
    {
      name: "validator crashed until the backoff limit: Failed, DataValidated False",
      job: {
        active: 0,
        failed: 3,
        conditions: finished("Failed", "BackoffLimitExceeded", "gave up"),
      },
      pods: [pod("p", { ...initializing, phase: "Failed", validator: v.exited(1, unreachable) })],
      want: ["Failed", "BackoffLimitExceeded", true],
      conditions: [
        "DataValidated=False/BackoffLimitExceeded",
        "Succeeded=False/BackoffLimitExceeded",
      ],
      dataMessage: /gave up \(exit code 1: cannot fetch dataset\)/,
    },
    {
      name: "trainer crashed after the data passed, until the backoff limit: Trained False",
      job: {
        active: 0,
        failed: 3,
        conditions: finished("Failed", "BackoffLimitExceeded", "gave up"),
      },
      pods: [pod("p", { ...exited(1), validator: v.exited(0, validatedLine) })],
      want: ["Failed", "BackoffLimitExceeded", true],
      conditions: ["Trained=False/BackoffLimitExceeded", "Succeeded=False/BackoffLimitExceeded"],
    },
    {
      name: "the S3 model store refused the trainer, until the backoff limit: ModelStoreUnavailable",
      job: {
        active: 0,
        failed: 3,
        conditions: finished("Failed", "BackoffLimitExceeded", "gave up"),
      },
      pods: [
        pod("p", {
          ...exited(
            1,
            JSON.stringify({
              status: "model-store",
              exitCode: 1,
              message: "s3://models/t/: InvalidAccessKeyId: check AWS_ACCESS_KEY_ID",
            }),
          ),
          validator: v.exited(0, validatedLine),
        }),
      ],
      want: ["Failed", "ModelStoreUnavailable", true],
      conditions: ["Trained=False/ModelStoreUnavailable", "Succeeded=False/ModelStoreUnavailable"],
    },
    {
      name: "the trainer's own checks fail after the validator passed (data changed): Failed",
      job: { active: 0, failed: 1 },
      pods: [pod("p", { ...exited(2, leak), validator: v.exited(0, validatedLine) })],
      want: ["Failed", "DataValidationFailed", true],
      conditions: [
        "DataValidated=False/DataValidationFailed",
        "Succeeded=False/DataValidationFailed",
      ],
      dataMessage: /Complain/,
    },
    {
      name: "a gate fails: DataValidated keeps the validator's numbers",
      job: { active: 0, failed: 1 },
      pods: [pod("p", { ...exited(3, gate), validator: v.exited(0, validatedLine) })],
      want: ["Failed", "GateFailed", true],
      conditions: [
        "DataValidated=True/DataValidated",
        "Trained=True/Trained",
        "ModelValidated=False/GateFailed",
        "Succeeded=False/GateFailed",
      ],
      dataMessage: numbers,
    },
    {
      name: "succeeded: every condition True, DataValidated with the validator's numbers",
      job: { active: 0, succeeded: 1, conditions: finished("Complete") },
      pods: [pod("p", { ...exited(0, ok), validator: v.exited(0, validatedLine) })],
      want: ["Succeeded", "Succeeded", true],
      conditions: [
        "DataValidated=True/DataValidated",
        "Trained=True/Trained",
        "ModelValidated=True/GatesPassed",
        "Succeeded=True/Succeeded",
      ],
      dataMessage: numbers,
    },
  ])("$name", ({ job: over, pods, want, conditions, dataMessage }) => {
    const o = decide(job(over), pods);
    expect([o.phase, o.reason, o.terminal]).toEqual(want);
    expect(conds(o)).toEqual(conditions);
    if (dataMessage) {
      const m = cond(o, "DataValidated")?.message ?? "";
      if (typeof dataMessage === "string") expect(m).toBe(dataMessage);
      else expect(m).toMatch(dataMessage);
    }
  });

  it("names the failed checks of a validator exit 2 in failedChecks, with no metrics", () => {
    const o = decide(job({ active: 0, failed: 1 }), [
      pod("p", { ...initializing, phase: "Failed", validator: v.exited(2, leakLine) }),
    ]);
    expect(o.failedChecks).toEqual(["feature.leakage[Complain]: ROC-AUC 0.998"]);
    expect(o.metrics).toBeUndefined();
    expect(o.attempts).toBe(1);
  });

  it("falls back to a plain message when the validator's summary is unreadable", () => {
    const o = decide(job(), [pod("p", { running: true, validator: v.exited(0, "garbage") })]);
    expect(cond(o, "DataValidated")?.message).toBe("every data check passed");
  });
});
