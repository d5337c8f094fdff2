import { describe, expect, it } from "vitest";
import type { Condition, ConditionUpdate } from "../../api/condition.js";
import type { TrainingRunStatus } from "../../api/training-run.js";
import type { TrainingOutcome } from "./training-outcome.js";
import { transitionEvents } from "./transition-events.js";

const c = (type: string, status: Condition["status"], reason: string, message = reason) =>
  ({ type, status, reason, message }) as ConditionUpdate;
const status = (phase: TrainingRunStatus["phase"], ...conds: ConditionUpdate[]) =>
  ({
    phase,
    conditions: conds.map((x) => ({ ...x, lastTransitionTime: "2026-11-28T04:00:00Z" })),
  }) as TrainingRunStatus;
const outcome = (
  phase: TrainingOutcome["phase"],
  reason: string,
  ...conds: ConditionUpdate[]
): TrainingOutcome =>
  ({
    phase,
    reason,
    message: `${phase}: ${reason}`,
    terminal: false,
    attempts: 0,
    conditions: [...conds, c("Succeeded", "Unknown", reason)],
  }) as TrainingOutcome;
const show = (old: TrainingRunStatus | undefined, next: TrainingOutcome) =>
  transitionEvents(old, next).map((e) => `${e.type}/${e.reason}`);

const dataValidated = c("DataValidated", "True", "DataValidated");
/** A run validating its data, and one training on validated data. */
const validating = status(
  "Validating",
  c("DataValidated", "Unknown", "ValidatingData"),
  c("Succeeded", "Unknown", "ValidatingData"),
);
const training = status("Training", dataValidated, c("Succeeded", "Unknown", "TrainerRunning"));

describe("transitionEvents", () => {
  it.each<[string, TrainingRunStatus | undefined, TrainingOutcome, string[]]>([
    ["first sight", undefined, outcome("Pending", "NotStarted"), ["Normal/NotStarted"]],
    [
      "Pending -> Validating: one Event for the condition and the phase",
      status("Pending", c("Succeeded", "Unknown", "TrainerPending")),
      outcome("Validating", "ValidatingData", c("DataValidated", "Unknown", "ValidatingData")),
      ["Normal/ValidatingData"],
    ],
    [
      "Validating -> Training: the data verdict and the phase, each its own reason",
      validating,
      outcome("Training", "TrainerRunning", dataValidated),
      ["Normal/DataValidated", "Normal/TrainerRunning"],
    ],
    [
      "Training, nothing new: no Event",
      training,
      outcome("Training", "TrainerRunning", dataValidated),
      [],
    ],
    [
      "Validating -> Failed on the data: one Warning",
      validating,
      outcome(
        "Failed",
        "DataValidationFailed",
        c("DataValidated", "False", "DataValidationFailed"),
      ),
      ["Warning/DataValidationFailed"],
    ],
    [
      "Training -> Succeeded: trained, gates passed, succeeded",
      training,
      outcome(
        "Succeeded",
        "Succeeded",
        dataValidated,
        c("Trained", "True", "Trained"),
        c("ModelValidated", "True", "GatesPassed"),
      ),
      ["Normal/Trained", "Normal/GatesPassed", "Normal/Succeeded"],
    ],
    [
      "same phase, new reason (a retry): a Warning",
      status("Training", c("Succeeded", "Unknown", "TrainerRunning")),
      outcome("Training", "TrainerRetrying"),
      ["Warning/TrainerRetrying"],
    ],
  ])("%s", (_name, old, next, want) => {
    expect(show(old, next)).toEqual(want);
  });

  it("carries the condition's message (the validator's numbers)", () => {
    const [e] = transitionEvents(
      status("Validating"),
      outcome(
        "Training",
        "TrainerRunning",
        c("DataValidated", "True", "DataValidated", "all 59 data checks passed on 10000 rows"),
      ),
    );
    expect(e?.message).toBe("all 59 data checks passed on 10000 rows");
  });
});
