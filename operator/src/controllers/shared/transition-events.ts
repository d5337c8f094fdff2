import { type Condition, type ConditionUpdate, findCondition } from "../../api/condition.js";
import { ConditionTypes } from "../../api/condition-types.js";
import type { Reason } from "../../api/reasons.js";

/** One Event to record on a run. */
export interface TransitionEvent {
  type: "Normal" | "Warning";
  reason: Reason;
  message: string;
}

/** What a run's next status says: its phase, why, and its conditions (Succeeded among them). */
export interface RunOutcome {
  phase: string;
  reason: Reason;
  message: string;
  conditions: readonly ConditionUpdate[];
}

/**
 * The Events a run's status change deserves, one per transition, each with its own reason:
 * every condition (but Succeeded, which mirrors the phase) whose status changed, then the phase
 * or its reason changing, a Warning when `warn` says so. A reason appears at most once per
 * change, so a failure that is both a condition and the phase is one Event. Pure: `old` is the
 * status last written.
 */
export function runTransitionEvents(
  old: { phase?: string; conditions?: Condition[] } | undefined,
  next: RunOutcome,
  warn: (next: RunOutcome) => boolean,
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
    add({ type: warn(next) ? "Warning" : "Normal", reason: next.reason, message: next.message });
  }
  return out;
}
