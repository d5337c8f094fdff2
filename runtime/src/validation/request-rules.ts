// The one description of what a score request may hold, derived from the model card: each
// column's rules, each rule carrying its test, its message and its JSON Schema. The validator
// (fast path and field errors, shape-validator.ts) and the OpenAPI document (json-schema.ts)
// are both read off this description, so they cannot disagree.
import { type FeatureSpec, type ModelCard, rawFeatureSpecs } from "../artifact/model-card.js";

/** A JSON Schema (2020-12, the dialect of OpenAPI 3.1). */
export type JsonSchema = Record<string, unknown>;

/** The JSON kinds a field can require. The type is checked first; a field's rules may assume it. */
export type ValueType =
  | "any"
  | "number"
  | "boolean"
  /** true, false, 0 or 1 */
  | "flag"
  | "string"
  | "string-or-number"
  | "array";

/** Whether `value` is of `type`. A switch, not a callback: this runs for every value of every row. */
export function isType(type: ValueType, value: unknown): boolean {
  switch (type) {
    case "any":
      return true;
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "boolean":
      return typeof value === "boolean";
    case "flag":
      return value === true || value === false || value === 0 || value === 1;
    case "string":
      return typeof value === "string";
    case "string-or-number":
      return typeof value === "string" || (typeof value === "number" && Number.isFinite(value));
    case "array":
      return Array.isArray(value);
  }
}

/** Each type in JSON Schema (JSON has no NaN or infinities, so "number" says all of it). */
export const TYPE_JSON: Readonly<Record<ValueType, JsonSchema>> = {
  any: {},
  number: { type: "number" },
  boolean: { type: "boolean" },
  flag: { anyOf: [{ type: "boolean" }, { enum: [0, 1] }] },
  string: { type: "string" },
  "string-or-number": { type: ["string", "number"] },
  array: { type: "array" },
};

/** One condition a value of the field's type must meet: its test, its message, its JSON Schema. */
export interface Rule {
  readonly test: (value: unknown) => boolean;
  readonly message: string;
  /** Whether a failure skips the field's later rules (a fraction has no range worth reporting). */
  readonly stops?: (value: unknown) => boolean;
  /**
   * A length bound, still checked after the type or an earlier rule failed when the value has a
   * `length` (so `[]` for a category is told both that it is not a string and that it is empty).
   * zod, which wrote these reports before, behaves so; kept so that every message stays as it was.
   */
  readonly measuresLength?: boolean;
  /** Merged into the field's schema, in order (bounds keep the tighter value). */
  readonly json: JsonSchema;
}

/** One key of an object: whether it may be missing or null, its type and the rules its value meets. */
export interface Field {
  readonly name: string;
  /** A missing value is refused with "is required". */
  readonly required: boolean;
  /** null is accepted (and skips the checks). */
  readonly nullable: boolean;
  readonly type: ValueType;
  /** How the type is named to a value that is not of it: `expected ${expected}, got …`. */
  readonly expected: string;
  readonly rules: readonly Rule[];
  /** For an array: the object every item must be (checked once the rules pass). */
  readonly items?: ObjectShape;
  /** Documentation only. */
  readonly description?: string;
}

/** A JSON object holding exactly these fields; any other key is refused. */
export interface ObjectShape {
  readonly fields: readonly Field[];
  /** What a non-object is told it should have been. */
  readonly expected: string;
  /** The OpenAPI component it is published as, when another shape nests it. */
  readonly component?: string;
}

/** How a value of the wrong kind is named in messages. */
export const describe = (input: unknown): string => {
  if (input === null) return "null";
  if (Array.isArray(input)) return "an array";
  if (typeof input === "string") return `the string ${JSON.stringify(input.slice(0, 40))}`;
  if (typeof input === "number" && !Number.isFinite(input)) return String(input);
  return `a ${typeof input}`;
};

const always = (): boolean => true;

/**
 * The smallest magnitude float32 rounds to infinity (its largest value plus half its last step):
 * the model's inputs are float32, and the trainer refuses such values in training data.
 */
const FLOAT32_LIMIT = 2 ** 128 - 2 ** 103;

function numberRules(spec: FeatureSpec & { type: "numeric" | "integer" }): Rule[] {
  const rules: Rule[] = [];
  if (spec.type === "numeric") {
    rules.push({
      test: (v) => Math.abs(v as number) < FLOAT32_LIMIT,
      message: `must be within float32's range (|x| < ${FLOAT32_LIMIT}), the model's input type`,
      json: { exclusiveMinimum: -FLOAT32_LIMIT, exclusiveMaximum: FLOAT32_LIMIT },
    });
  }
  if (spec.type === "integer") {
    rules.push({
      test: Number.isSafeInteger,
      message: "expected an integer (at most 2^53 - 1 in magnitude)",
      // A fraction has no range worth reporting; an integer too large to be exact still does.
      stops: (v) => !Number.isInteger(v),
      json: { type: "integer", minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER },
    });
  }
  const { min, max } = spec;
  if (min !== undefined && min !== null) {
    rules.push({
      test: (v) => (v as number) >= min,
      message: `must be >= ${min}`,
      json: { minimum: min },
    });
  }
  if (max !== undefined && max !== null) {
    rules.push({
      test: (v) => (v as number) <= max,
      message: `must be <= ${max}`,
      json: { maximum: max },
    });
  }
  return rules;
}

function categoryRules(values: readonly string[], closed: boolean): Rule[] {
  const rules: Rule[] = [
    {
      test: (v) => (v as string).length >= 1,
      message: "must not be empty",
      measuresLength: true,
      json: { minLength: 1 },
    },
  ];
  if (closed) {
    const known = new Set(values);
    rules.push({
      test: (v) => known.has(v as string),
      message: `unknown category; expected one of ${values.map((a) => JSON.stringify(a)).join(", ")}`,
      json: { enum: [...values] },
    });
  }
  return rules;
}

/** The field of one raw column as the schema declares it. */
function featureField(spec: FeatureSpec): Field {
  const nullable = spec.nullable === true;
  const base = { name: spec.name, required: !nullable, nullable };
  switch (spec.type) {
    case "numeric":
      return { ...base, type: "number", expected: "a number", rules: numberRules(spec) };
    case "integer":
      return { ...base, type: "number", expected: "an integer", rules: numberRules(spec) };
    case "boolean":
      return { ...base, type: "flag", expected: "true, false, 0 or 1", rules: [] };
    case "categorical":
    case "ordinal": {
      const values = spec.type === "categorical" ? spec.values : spec.order;
      const field = { ...base, type: "string", expected: "a string" } as const;
      // Unseen categories are scored (and flagged) unless the schema says to refuse them.
      if (spec.unseen !== "ignore") return { ...field, rules: categoryRules(values, true) };
      return {
        ...field,
        rules: categoryRules(values, false),
        description: `Known: ${values.join(", ")}. Other values are scored as unseen and flagged.`,
      };
    }
  }
}

/** One instance: the raw columns, the id (echoed back) and the target and dropped columns (ignored). */
export function instanceShape(card: ModelCard): ObjectShape {
  const fields = rawFeatureSpecs(card).map(featureField);
  const taken = new Set(fields.map((f) => f.name));
  const id = card.schema.idColumn;
  if (id && !taken.has(id)) {
    taken.add(id);
    fields.push({
      name: id,
      required: false,
      nullable: false,
      type: "string-or-number",
      expected: "a string or number",
      rules: [],
      description: "Customer id, echoed back as `id`",
    });
  }
  for (const column of [card.schema.target?.column, ...(card.schema.drop ?? [])]) {
    if (typeof column !== "string" || taken.has(column)) continue;
    taken.add(column);
    fields.push({
      name: column,
      required: false,
      nullable: true,
      type: "any",
      expected: "anything",
      rules: [],
      description: "Accepted and ignored",
    });
  }
  return { fields, expected: "an object", component: "Instance" };
}

/** The body of POST /v1/score and /v1/explain. */
export interface ScoreRequest {
  instances: Record<string, unknown>[];
  explain?: boolean | undefined;
}

/** A score/explain request body holding 1 to `maxInstances` instances. */
export function scoreRequestShape(
  instance: ObjectShape,
  limits: { maxInstances: number; maxExplainRows: number },
): ObjectShape {
  const max = limits.maxInstances;
  const instances: Field = {
    name: "instances",
    required: true,
    nullable: false,
    type: "array",
    expected: "an array of instances",
    rules: [
      // A batch of the wrong size is refused before its rows are read.
      {
        test: (v) => (v as unknown[]).length >= 1,
        message: "must hold at least one instance",
        stops: always,
        measuresLength: true,
        json: { minItems: 1 },
      },
      {
        test: (v) => (v as unknown[]).length <= max,
        message: `holds more than the limit of ${max} instances per request`,
        stops: always,
        measuresLength: true,
        json: { maxItems: max },
      },
    ],
    items: instance,
  };
  const explain: Field = {
    name: "explain",
    required: false,
    nullable: false,
    type: "boolean",
    expected: "a boolean",
    rules: [],
    description: `Also explain each row (at most ${limits.maxExplainRows} rows)`,
  };
  return { fields: [instances, explain], expected: 'a JSON object with "instances"' };
}
