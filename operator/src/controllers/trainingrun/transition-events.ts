import { findCondition } from "../../api/condition.js";
import { ConditionTypes } from "../../api/condition-types.js";
import { type Reason, Reasons } from "../../api/reasons.js";
import type { TrainingRunStatus } from "../../api/training-run.js";
import type { TrainingOutcome } from "./training-outcome.js";

/** One Event to record on a TrainingRun. */
export interface TransitionEvent {
  type: "Normal" | "Warning";
  reason: Reason;
  message: string;
}

/**
 * The Events a status change deserves, one per transition, each with its own reason: every
 * condition (but Succeeded, which mirrors the phase) whose status changed, then the phase or
 * its reason changing. A reason appears at most once per change, so a failure that is both a
 * condition and the phase is one Event. Pure: `old` is the status last written.
 */
export function transitionEvents(
  old: TrainingRunStatus | undefined,
  next: TrainingOutcome,
): TransitionEvent[] {
  const out: TransitionEvent[] = [];
  const add = (e: TransitionEvent) => {
    if (!out.some((o) => o.reason === e.reason)) out.push(e);
  };
  for (const c of next.conditions) {
    if (c.type === ConditionTypes.Succeeded) continue;
    if (findCondition(old?.conditions, c.type)?.status === c.status) continue;
    add({
      type: c.status === "False" ? "Warning" : "Normal",
      reason: c.reason as Reason,
      message: c.message,
    });
  }
  const oldReason = findCondition(old?.conditions, ConditionTypes.Succeeded)?.reason;
  if (old?.phase !== next.phase || oldReason !== next.reason) {
    const warn = next.phase === "Failed" || next.reason === Reasons.TrainerRetrying;
    add({ type: warn ? "Warning" : "Normal", reason: next.reason, message: next.message });
  }
  return out;
}
