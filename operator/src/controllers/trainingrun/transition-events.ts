import { Reasons } from "../../api/reasons.js";
import type { TrainingRunStatus } from "../../api/training-run.js";
import { runTransitionEvents, type TransitionEvent } from "../shared/transition-events.js";
import type { TrainingOutcome } from "./training-outcome.js";

export type { TransitionEvent };

/**
 * The Events a TrainingRun's status change deserves (see runTransitionEvents); a failure or a
 * trainer retry is a Warning. Pure: `old` is the status last written.
 */
export function transitionEvents(
  old: TrainingRunStatus | undefined,
  next: TrainingOutcome,
): TransitionEvent[] {
  return runTransitionEvents(
    old,
    next,
    (n) => n.phase === "Failed" || n.reason === Reasons.TrainerRetrying,
  );
}
