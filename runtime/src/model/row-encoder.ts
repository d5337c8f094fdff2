// Raw rows to the encoded feature vectors the trees see, in TypeScript, following model.json's
// `features.encoders` (the plan the graph's preprocessing implements: imputation, one-hot,
// ordinal maps). Its output must equal the graph's `features` output bit for bit; the engine
// check compares them at load before this encoder is ever used.
import { z } from "zod";
import type { ModelCard } from "../artifact/model-card.js";

const encoderSchema = z.looseObject({
  feature: z.string(),
  kind: z.enum(["passthrough", "onehot", "ordinal"]),
  categories: z.array(z.string()).optional(),
  missing: z.looseObject({ impute: z.union([z.number(), z.string()]).optional() }).optional(),
});
type EncoderSpec = z.infer<typeof encoderSchema>;

/** Raised when model.json's encoders cannot be compiled (the server then uses onnxruntime). */
export class EncoderPlanError extends Error {
  override readonly name = "EncoderPlanError";
}

type NumberColumn = { kind: "number"; name: string; offset: number; fill: number };
type CategoryColumn = {
  kind: "onehot" | "ordinal";
  name: string;
  offset: number;
  index: Map<string, number>;
};
type Column = NumberColumn | CategoryColumn;

/** The value a score request's JSON gives a numeric input, as the graph's float input sees it. */
export function numericInput(v: unknown): number {
  return typeof v === "number" ? v : typeof v === "boolean" ? Number(v) : Number.NaN;
}

/** The value a score request's JSON gives a string input; "" means missing to the graph. */
export function stringInput(v: unknown): string {
  return typeof v === "string" ? v : "";
}

function imputed(spec: EncoderSpec): number | string | undefined {
  return spec.missing?.impute;
}

/** The string onnxruntime-node hands the graph: a C string, so it ends at the first NUL. */
function graphString(v: unknown): string {
  const s = stringInput(v);
  const nul = s.indexOf("\0");
  return nul < 0 ? s : s.slice(0, nul);
}

/** Category -> its index, with "" (missing) -> the imputed category's index when imputing. */
function categoryIndex(spec: EncoderSpec): Map<string, number> {
  const cats = spec.categories ?? [];
  const index = new Map<string, number>();
  cats.forEach((c, i) => {
    if (!index.has(c)) index.set(c, i);
  });
  const fill = imputed(spec);
  if (fill !== undefined && !index.has("")) {
    const at = cats.indexOf(String(fill));
    if (at < 0) throw new EncoderPlanError(`${spec.feature} imputes ${fill}, not a category`);
    index.set("", at);
  }
  return index;
}

function encodedNames(spec: EncoderSpec): string[] {
  if (spec.kind === "onehot") return (spec.categories ?? []).map((c) => `${spec.feature}=${c}`);
  return [spec.feature];
}

function column(spec: EncoderSpec, offset: number): Column {
  const name = spec.feature;
  if (spec.kind === "passthrough") {
    const fill = imputed(spec);
    if (typeof fill === "string") throw new EncoderPlanError(`${name} imputes a string`);
    return { kind: "number", name, offset, fill: Math.fround(fill ?? Number.NaN) };
  }
  return { kind: spec.kind, name, offset, index: categoryIndex(spec) };
}

type Rows = readonly Record<string, unknown>[];

function encodeNumbers(c: NumberColumn, rows: Rows, out: Float32Array, w: number): void {
  for (let i = 0, at = c.offset; i < rows.length; i++, at += w) {
    out[at] = numericInput((rows[i] as Record<string, unknown>)[c.name]);
    // NaN after the float32 store too; the graph imputes on its float input.
    if (Number.isNaN(out[at])) out[at] = c.fill;
  }
}

/** One 1 in the category's column; unseen (and non-imputed missing) leaves all zeros. */
function encodeOneHot(c: CategoryColumn, rows: Rows, out: Float32Array, w: number): void {
  for (let i = 0, at = c.offset; i < rows.length; i++, at += w) {
    const k = c.index.get(graphString((rows[i] as Record<string, unknown>)[c.name]));
    if (k !== undefined) out[at + k] = 1;
  }
}

/** The category's index; unseen (and non-imputed missing) is NaN. */
function encodeOrdinal(c: CategoryColumn, rows: Rows, out: Float32Array, w: number): void {
  for (let i = 0, at = c.offset; i < rows.length; i++, at += w) {
    const k = c.index.get(graphString((rows[i] as Record<string, unknown>)[c.name]));
    out[at] = k === undefined ? Number.NaN : k;
  }
}

/** Encodes rows into row-major float32 vectors in `features.encoded` order. */
export class RowEncoder {
  private constructor(
    private readonly columns: Column[],
    readonly width: number,
  ) {}

  /** Compiles model.json's encoders; throws EncoderPlanError if they do not match the card. */
  static fromCard(card: ModelCard): RowEncoder {
    const parsed = z.array(encoderSchema).safeParse(card.features.encoders);
    if (!parsed.success) throw new EncoderPlanError("model.json has no usable features.encoders");
    const specs = parsed.data;
    const names = specs.flatMap(encodedNames);
    const expected = card.features.encoded;
    if (names.length !== expected.length || names.some((n, i) => n !== expected[i])) {
      throw new EncoderPlanError("model.json's encoders do not produce features.encoded");
    }
    const raw = specs.map((s) => s.feature);
    if (raw.join("\0") !== card.features.raw.join("\0")) {
      throw new EncoderPlanError("model.json's encoders do not follow features.raw");
    }
    const columns: Column[] = [];
    let offset = 0;
    for (const spec of specs) {
      columns.push(column(spec, offset));
      offset += encodedNames(spec).length;
    }
    return new RowEncoder(columns, offset);
  }

  /** Writes `rows` into `out` (rows.length x width, row-major). */
  encode(rows: readonly Record<string, unknown>[], out: Float32Array): void {
    out.fill(0, 0, rows.length * this.width);
    for (const c of this.columns) {
      if (c.kind === "number") encodeNumbers(c, rows, out, this.width);
      else if (c.kind === "onehot") encodeOneHot(c, rows, out, this.width);
      else encodeOrdinal(c, rows, out, this.width);
    }
  }
}
