// The model card (model.json) as the runtime reads it: only the fields serving depends on are
// required; everything else the trainer writes is kept and shown by GET /v1/model untouched.
import { z } from "zod";

const base = { name: z.string().min(1), nullable: z.boolean().optional() };

const numericFeature = z.looseObject({
  ...base,
  type: z.enum(["numeric", "integer"]),
  min: z.number().nullable().optional(),
  max: z.number().nullable().optional(),
});
const booleanFeature = z.looseObject({ ...base, type: z.literal("boolean") });
const categoricalFeature = z.looseObject({
  ...base,
  type: z.literal("categorical"),
  values: z.array(z.string()).min(1),
  unseen: z.enum(["ignore", "error"]).optional(),
});
const ordinalFeature = z.looseObject({
  ...base,
  type: z.literal("ordinal"),
  order: z.array(z.string()).min(1),
  unseen: z.enum(["ignore", "error"]).optional(),
});

/** One raw input column as the schema declares it. */
export const featureSpecSchema = z.discriminatedUnion("type", [
  numericFeature,
  booleanFeature,
  categoricalFeature,
  ordinalFeature,
]);
export type FeatureSpec = z.infer<typeof featureSpecSchema>;

/** The parts of model.json the runtime relies on (format version 1). */
export const modelCardSchema = z.looseObject({
  formatVersion: z.literal(1),
  digest: z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lowercase hex characters"),
  name: z.string().min(1),
  createdAt: z.string().optional(),
  schema: z.looseObject({
    idColumn: z.string().nullable().optional(),
    target: z.looseObject({ column: z.string() }).optional(),
    features: z.array(featureSpecSchema).min(1),
    drop: z.array(z.string()).optional(),
  }),
  features: z.looseObject({
    raw: z.array(z.string()).min(1),
    encoded: z.array(z.string()).min(1),
    encodedToRaw: z.array(z.number().int().nonnegative()),
  }),
  threshold: z.looseObject({ value: z.number().min(0).max(1) }),
  /** How the graph calibrates its probability (absent in artifacts from before calibration). */
  calibration: z.looseObject({ method: z.enum(["none", "sigmoid", "isotonic"]) }).optional(),
});
export type ModelCard = z.infer<typeof modelCardSchema>;

/** Raised when model.json is missing or does not follow the artifact contract. */
export class ModelCardError extends Error {
  override readonly name = "ModelCardError";
}

/** Validates parsed model.json and checks its internal consistency. */
export function parseModelCard(json: unknown): ModelCard {
  const parsed = modelCardSchema.safeParse(json);
  if (!parsed.success) {
    const details = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
      .join("; ");
    throw new ModelCardError(`model.json does not follow the artifact contract: ${details}`);
  }
  const card = parsed.data;
  const declared = card.schema.features.map((f) => f.name);
  const missing = card.features.raw.filter((name) => !declared.includes(name));
  if (missing.length > 0 || declared.length !== card.features.raw.length) {
    throw new ModelCardError(
      `model.json features.raw (${card.features.raw.join(", ")}) does not match schema.features (${declared.join(", ")})`,
    );
  }
  if (card.features.encodedToRaw.length !== card.features.encoded.length) {
    throw new ModelCardError(
      "model.json features.encodedToRaw must have one entry per encoded feature",
    );
  }
  if (card.features.encodedToRaw.some((i) => i >= card.features.raw.length)) {
    throw new ModelCardError("model.json features.encodedToRaw points past features.raw");
  }
  return card;
}

/** The schema's feature specs in ONNX input order. */
export function rawFeatureSpecs(card: ModelCard): FeatureSpec[] {
  const byName = new Map(card.schema.features.map((f) => [f.name, f]));
  return card.features.raw.map((name) => byName.get(name) as FeatureSpec);
}
