// A compiled check of score requests for the common case (everything valid), derived from the
// same model card as the zod schema. It only says yes or "ask zod": any request it does not
// accept goes through zod, which produces the field-by-field errors. A property test keeps the
// two in agreement.
import { type FeatureSpec, type ModelCard, rawFeatureSpecs } from "../artifact/model-card.js";
import type { ScoreRequest } from "./request-schema.js";

type Check = (v: unknown) => boolean;

function featureCheck(spec: FeatureSpec): Check {
  let check: Check;
  switch (spec.type) {
    case "numeric":
    case "integer": {
      const min = spec.min ?? Number.NEGATIVE_INFINITY;
      const max = spec.max ?? Number.POSITIVE_INFINITY;
      const integer = spec.type === "integer";
      check = (v) =>
        typeof v === "number" &&
        Number.isFinite(v) &&
        v >= min &&
        v <= max &&
        // zod's .int() accepts safe integers only (|v| <= 2^53 - 1); agree with it exactly.
        (!integer || Number.isSafeInteger(v));
      break;
    }
    case "boolean":
      check = (v) => v === true || v === false || v === 0 || v === 1;
      break;
    case "categorical":
    case "ordinal": {
      const allowed = new Set(spec.type === "categorical" ? spec.values : spec.order);
      const ignore = spec.unseen === "ignore";
      check = (v) => typeof v === "string" && v.length > 0 && (ignore || allowed.has(v));
      break;
    }
  }
  return spec.nullable ? (v) => v === undefined || v === null || check(v) : check;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Returns a function that yields the request when it is valid, or undefined to defer to zod. */
export function compileFastValidator(
  card: ModelCard,
  maxBatch: number,
): (body: unknown) => ScoreRequest | undefined {
  const features = rawFeatureSpecs(card).map((s) => ({ name: s.name, check: featureCheck(s) }));
  const allowed = new Set(features.map((f) => f.name));
  for (const c of [card.schema.target?.column, ...(card.schema.drop ?? [])]) {
    if (typeof c === "string") allowed.add(c);
  }
  const id = card.schema.idColumn;
  const idCheck: Check | undefined =
    id && !allowed.has(id)
      ? (v) =>
          v === undefined || typeof v === "string" || (typeof v === "number" && Number.isFinite(v))
      : undefined;
  if (id) allowed.add(id);

  const rowOk = (row: unknown): boolean => {
    if (!isPlainObject(row)) return false;
    for (const key of Object.keys(row)) if (!allowed.has(key)) return false;
    for (const f of features) if (!f.check(row[f.name])) return false;
    return idCheck === undefined || idCheck(row[id as string]);
  };

  return (body) => {
    if (!isPlainObject(body)) return undefined;
    for (const key of Object.keys(body))
      if (key !== "instances" && key !== "explain") return undefined;
    const { instances, explain } = body;
    if (explain !== undefined && typeof explain !== "boolean") return undefined;
    if (!Array.isArray(instances) || instances.length < 1 || instances.length > maxBatch) {
      return undefined;
    }
    for (const row of instances) if (!rowOk(row)) return undefined;
    return body as unknown as ScoreRequest;
  };
}
