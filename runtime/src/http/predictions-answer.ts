// The answer of /v1/score and /v1/explain, and its JSON written by hand. Every row repeats the
// model version and the threshold; JSON.stringify rescans and rewrites them, with every key,
// row by row, and at 1000 rows that took about as long as parsing the request. Here each
// row's constant part is one string made once per answer. The text is exactly
// JSON.stringify's (same keys, same order, same numbers); predictions-answer.test.ts holds it
// to that.
import type { Context, Next } from "koa";
import type { Prediction } from "../model/model-service.js";
import type { ExplainedQuantity } from "./explained-quantity.js";

/** A finite number as JSON.stringify writes it (anything else is null, as there). */
const number = (v: number): string => (Number.isFinite(v) ? String(v) : "null");

/** The rows' fields after `label`, as JSON text, once per (label, threshold, model version). */
class RowTails {
  private threshold: number | undefined;
  private version: string | undefined;
  private positive = "";
  private negative = "";

  /** `,"label":…,"threshold":…,"modelVersion":"…"` of `p`. */
  of(p: Prediction): string {
    if (p.threshold !== this.threshold || p.modelVersion !== this.version) {
      this.threshold = p.threshold;
      this.version = p.modelVersion;
      const rest = `,"threshold":${number(p.threshold)},"modelVersion":${JSON.stringify(p.modelVersion)}`;
      this.positive = `,"label":true${rest}`;
      this.negative = `,"label":false${rest}`;
    }
    return p.label ? this.positive : this.negative;
  }
}

/** One prediction's JSON: its fields in the order ModelService.predict sets them. */
function predictionJson(p: Prediction, tails: RowTails): string {
  let s = `{"probability":${number(p.probability)}${tails.of(p)}`;
  if (p.id !== undefined) s += `,"id":${JSON.stringify(p.id)}`;
  if (p.unknownCategories !== undefined) {
    s += `,"unknownCategories":${JSON.stringify(p.unknownCategories)}`;
  }
  if (p.explanation !== undefined) s += `,"explanation":${JSON.stringify(p.explanation)}`;
  return `${s}}`;
}

/** The body of a /v1/score or /v1/explain answer; serialised by {@link writePredictionsAnswers}. */
export class PredictionsAnswer {
  constructor(
    readonly modelVersion: string | undefined,
    readonly explains: ExplainedQuantity | undefined,
    readonly predictions: Prediction[],
  ) {}

  /** The answer as JSON text, equal to JSON.stringify(this). */
  json(): string {
    let s = "{";
    if (this.modelVersion !== undefined)
      s += `"modelVersion":${JSON.stringify(this.modelVersion)},`;
    if (this.explains !== undefined) s += `"explains":${JSON.stringify(this.explains)},`;
    s += `"predictions":[`;
    const tails = new RowTails();
    const rows = this.predictions;
    for (let i = 0; i < rows.length; i++) {
      if (i > 0) s += ",";
      s += predictionJson(rows[i] as Prediction, tails);
    }
    return `${s}]}`;
  }
}

/**
 * Koa middleware, outermost: turns a PredictionsAnswer body into its JSON text once every inner
 * middleware is done with it (test faults still shift its probabilities as an object).
 */
export async function writePredictionsAnswers(ctx: Context, next: Next): Promise<void> {
  await next();
  if (ctx.body instanceof PredictionsAnswer) {
    // As bytes: koa would measure a string's UTF-8 length and then encode it, two passes.
    const bytes = Buffer.from(ctx.body.json());
    ctx.type = "application/json";
    ctx.body = bytes;
  }
}
