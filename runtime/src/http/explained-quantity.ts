// What a served model's SHAP contributions add up to, from the model card's calibration.
import type { ModelCard } from "../artifact/model-card.js";

/**
 * `probability-log-odds`: baseValue + sum(contributions) = logOdds = logit(probability) (no
 * calibration, or sigmoid calibration folded into the trees). `uncalibrated-margin`: isotonic
 * calibration maps the trees' probability after the sum, so logOdds is the trees' margin
 * before that map; it orders customers as the probability does but is not logit(probability).
 */
export type ExplainedQuantity = "probability-log-odds" | "uncalibrated-margin";

/** Every value of {@link ExplainedQuantity}, for the OpenAPI document. */
export const explainedQuantities: readonly ExplainedQuantity[] = [
  "probability-log-odds",
  "uncalibrated-margin",
];

/** What `card`'s explanations are of. */
export function explainedQuantity(card: ModelCard): ExplainedQuantity {
  return card.calibration?.method === "isotonic" ? "uncalibrated-margin" : "probability-log-odds";
}
