/**
 * Every condition type the operator writes, in one place (PascalCase, as metav1.Condition
 * types are). Reasons live in reasons.ts.
 */
export const ConditionTypes = {
  // TrainingRun
  DataValidated: "DataValidated",
  Trained: "Trained",
  ModelValidated: "ModelValidated",
  Succeeded: "Succeeded",
  // ChurnModel
  Ready: "Ready",
  Progressing: "Progressing",
  Degraded: "Degraded",
  // ScoringRun (and Succeeded)
  ModelResolved: "ModelResolved",
} as const;

/** One of the operator's condition types. */
export type ConditionType = (typeof ConditionTypes)[keyof typeof ConditionTypes];
