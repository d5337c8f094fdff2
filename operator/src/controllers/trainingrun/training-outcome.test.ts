import { describe, expect, it } from "vitest";
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
  decideTrainingOutcome(j, pods, "churn-models", 3);
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
