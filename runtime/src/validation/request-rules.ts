// Request validation derived from the model card's schema: one zod schema per raw column, so
// every bad field is reported by name and reason before anything reaches the model.
import { z } from "zod";
import { type FeatureSpec, type ModelCard, rawFeatureSpecs } from "../artifact/model-card.js";

/** One rejected field: a JSON-path-like location and why. */
export interface FieldError {
  readonly field: string;
  readonly message: string;
}

const describe = (input: unknown): string => {
  if (input === null) return "null";
  if (Array.isArray(input)) return "an array";
  if (typeof input === "string") return `the string ${JSON.stringify(input.slice(0, 40))}`;
  return `a ${typeof input}`;
};

/** A message for a value of the wrong JSON type, or a missing required one. */
const typeError = (expected: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? "is required" : `expected ${expected}, got ${describe(issue.input)}`;

function featureSchema(spec: FeatureSpec): z.ZodType {
  let schema: z.ZodType;
  switch (spec.type) {
    case "numeric":
    case "integer": {
      let n = z.number({ error: typeError(spec.type === "integer" ? "an integer" : "a number") });
      if (spec.type === "integer")
        n = n.int({ error: "expected an integer (at most 2^53 - 1 in magnitude)" });
      if (spec.min !== undefined && spec.min !== null) {
        n = n.min(spec.min, { error: `must be >= ${spec.min}` });
      }
      if (spec.max !== undefined && spec.max !== null) {
        n = n.max(spec.max, { error: `must be <= ${spec.max}` });
      }
      schema = n;
      break;
    }
    case "boolean":
      schema = z.union([z.boolean(), z.literal(0), z.literal(1)], {
        error: typeError("true, false, 0 or 1"),
      });
      break;
    case "categorical":
    case "ordinal": {
      const allowed = spec.type === "categorical" ? spec.values : spec.order;
      const s = z.string({ error: typeError("a string") }).min(1, { error: "must not be empty" });
      // Unseen categories are scored (and flagged) unless the schema says to refuse them.
      schema =
        spec.unseen === "ignore"
          ? s
          : s.refine((v) => allowed.includes(v), {
              error: `unknown category; expected one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}`,
            });
      break;
    }
  }
  return spec.nullable ? schema.nullable().optional() : schema;
}

/** The zod schema of one instance: the raw columns, plus the id, target and dropped columns (ignored). */
export function buildInstanceSchema(card: ModelCard): z.ZodType<Record<string, unknown>> {
  const shape: Record<string, z.ZodType> = {};
  for (const spec of rawFeatureSpecs(card)) shape[spec.name] = featureSchema(spec);
  const passive = [card.schema.target?.column, ...(card.schema.drop ?? [])].filter(
    (c): c is string => typeof c === "string" && !(c in shape),
  );
  for (const column of passive) shape[column] = z.unknown().optional();
  const id = card.schema.idColumn;
  if (id && !card.features.raw.includes(id)) {
    shape[id] = z
      .union([z.string(), z.number()], { error: typeError("a string or number") })
      .optional();
  }
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === "invalid_type"
        ? `expected an object, got ${describe(issue.input)}`
        : undefined,
  }) as unknown as z.ZodType<Record<string, unknown>>;
}

/** The body of POST /v1/score and /v1/explain. */
export interface ScoreRequest {
  instances: Record<string, unknown>[];
  explain?: boolean | undefined;
}

/** The zod schema of a score/explain request body with the batch cap applied. */
export function buildScoreRequestSchema(
  card: ModelCard,
  maxBatch: number,
): z.ZodType<ScoreRequest> {
  return z.strictObject(
    {
      instances: z
        .array(buildInstanceSchema(card), { error: typeError("an array of instances") })
        .min(1, { error: "must hold at least one instance" })
        .max(maxBatch, { error: `holds more than the limit of ${maxBatch} instances per request` }),
      explain: z.boolean({ error: typeError("a boolean") }).optional(),
    },
    {
      error: (issue) =>
        issue.code === "invalid_type"
          ? `expected a JSON object with "instances", got ${describe(issue.input)}`
          : undefined,
    },
  ) as unknown as z.ZodType<ScoreRequest>;
}

/** Turns zod issues into field errors: `instances[3].Age: expected a number, got a string`. */
export function fieldErrors(error: z.ZodError, limit = 50): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    const path = issue.path
      .map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
      .join("");
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        out.push({
          field: path ? `${path}.${key}` : key,
          message: "is not a field of this model's schema",
        });
      }
    } else {
      out.push({ field: path || "(body)", message: issue.message });
    }
    if (out.length >= limit) break;
  }
  return out;
}
