// Checks values against an object shape from request-rules.ts, in two forms read off the same
// shape: a yes-or-no check generated as straight-line code (the path every valid request takes)
// and a walk that names every bad field (the 400 report). Neither knows any feature kind: both
// only apply the shape's types, rules, required and nullable flags and known keys.
import { codeGenerationAllowed } from "../code-generation.js";
import { describe, type Field, isType, type ObjectShape } from "./request-rules.js";

/** One rejected field: a JSON-path-like location and why. */
export interface FieldError {
  readonly field: string;
  readonly message: string;
}

/** A compiled check of one shape. */
export interface ShapeValidator<T> {
  /** Whether the value fits the shape. */
  accepts(value: unknown): value is T;
  /** Every bad field, `instances[3].Age: must be >= 18` (the problems up to `limit` fields). */
  errors(value: unknown, limit?: number): FieldError[];
}

const UNKNOWN_FIELD = "is not a field of this model's schema";

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Optional fields of any type cannot fail; they count only as known keys. */
const checkedFields = (shape: ObjectShape): Field[] =>
  shape.fields.filter((f) => f.required || f.type !== "any" || f.rules.length > 0);

/**
 * The yes-or-no check, generated once per shape. Each type check and rule test gets a call site
 * of its own, so V8 inlines them: about half the cost per row of the hand-written checker this
 * replaced, and a quarter of a generic walk. The source holds nothing from the model card (names,
 * tests and key sets are passed in as arguments). Where code generation is switched off
 * (--disallow-code-generation-from-strings) the report's walk answers instead.
 */
function compileAccepts(shape: ObjectShape): (value: unknown) => boolean {
  const params: string[] = [];
  const args: unknown[] = [];
  const pass = (value: unknown): string => {
    args.push(value);
    return params[params.push(`p${params.length}`) - 1] as string;
  };
  let temps = 0;
  const temp = () => `t${temps++}`;
  const objectIs = pass(isPlainObject);
  const typeIs = pass(isType);

  const objectCode = (s: ObjectShape, v: string): string => {
    const known = pass(new Set(s.fields.map((f) => f.name)));
    const key = temp();
    return [
      `if (!${objectIs}(${v})) return false;`,
      ...checkedFields(s).map((f) => fieldCode(f, v)),
      `for (const ${key} of Object.keys(${v})) if (!${known}.has(${key})) return false;`,
    ].join("\n");
  };
  const fieldCode = (f: Field, v: string): string => {
    const x = temp();
    const tests = [
      `${typeIs}(${JSON.stringify(f.type)}, ${x})`,
      ...f.rules.map((r) => `${pass(r.test)}(${x})`),
    ];
    const present = f.nullable ? `${x} !== undefined && ${x} !== null` : `${x} !== undefined`;
    let items = "";
    if (f.items) {
      const i = temp();
      const item = temp();
      items = `for (let ${i} = 0; ${i} < ${x}.length; ${i}++) {\nconst ${item} = ${x}[${i}];\n${objectCode(f.items, item)}\n}`;
    }
    return [
      `const ${x} = ${v}[${pass(f.name)}];`,
      f.required ? `if (${x} === undefined) return false;` : "",
      `if (${present}) {\nif (!(${tests.join(" && ")})) return false;\n${items}\n}`,
    ].join("\n");
  };

  const body = objectCode(shape, "value");
  return new Function(...params, `return (value) => {\n${body}\nreturn true;\n};`)(...args);
}

/** Collects field errors; thrown through the walk once `limit` is reached. */
class Report {
  readonly fields: FieldError[] = [];
  constructor(private readonly limit: number) {}

  /** One problem: a message, or the unknown keys of one object. */
  add(items: FieldError[]): void {
    this.fields.push(...items);
    if (this.fields.length >= this.limit) throw this;
  }
}

const hasLength = (v: unknown): boolean =>
  v !== null && v !== undefined && (v as { length?: unknown }).length !== undefined;

const child = (path: string, key: string): string => (path ? `${path}.${key}` : key);

type Walk = (value: unknown, report: Report, path: string) => void;

/**
 * Reports the rules `value` fails; true when none does. Once the type check (`stopped`) or a
 * stopping rule has failed, only length rules on a value that has a length still run.
 */
function checkRules(
  rules: Field["rules"],
  value: unknown,
  report: Report,
  path: string,
  stopped: boolean,
): boolean {
  let ok = true;
  for (const rule of rules) {
    if (stopped && !(rule.measuresLength && hasLength(value))) continue;
    if (rule.test(value)) continue;
    report.add([{ field: path, message: rule.message }]);
    ok = false;
    stopped ||= rule.stops?.(value) === true;
  }
  return ok;
}

/** Reports a present value's wrong type and failed rules; true when it has neither. */
function checkValue(field: Field, value: unknown, report: Report, path: string): boolean {
  const typeOk = isType(field.type, value);
  if (!typeOk)
    report.add([{ field: path, message: `expected ${field.expected}, got ${describe(value)}` }]);
  const rulesOk = checkRules(field.rules, value, report, path, !typeOk);
  return typeOk && rulesOk;
}

function fieldWalk(field: Field): Walk {
  const { required, nullable } = field;
  const items = field.items ? objectWalk(field.items) : undefined;
  return (value, report, path) => {
    if (value === undefined) {
      if (required) report.add([{ field: path, message: "is required" }]);
      return;
    }
    if (value === null && nullable) return;
    if (!checkValue(field, value, report, path) || !items) return;
    const list = value as unknown[];
    for (let i = 0; i < list.length; i++) items(list[i], report, `${path}[${i}]`);
  };
}

function objectWalk(shape: ObjectShape): Walk {
  const known = new Set(shape.fields.map((f) => f.name));
  const fields = checkedFields(shape).map((f) => ({ name: f.name, walk: fieldWalk(f) }));
  return (value, report, path) => {
    if (!isPlainObject(value)) {
      const message = `expected ${shape.expected}, got ${describe(value)}`;
      report.add([{ field: path || "(body)", message }]);
      return;
    }
    for (const f of fields) f.walk(value[f.name], report, child(path, f.name));
    const unknown = Object.keys(value)
      .filter((key) => !known.has(key))
      .map((key) => ({ field: child(path, key), message: UNKNOWN_FIELD }));
    if (unknown.length > 0) report.add(unknown);
  };
}

/** Compiles `shape` into its validator. */
export function compileValidator<T>(shape: ObjectShape): ShapeValidator<T> {
  const walk = objectWalk(shape);
  const errors = (value: unknown, limit = 50): FieldError[] => {
    const report = new Report(limit);
    try {
      walk(value, report, "");
    } catch (err) {
      if (err !== report) throw err;
    }
    return report.fields;
  };
  // The walk with a limit of one answers the same yes or no (request-rules.test checks both).
  const generated = codeGenerationAllowed ? compileAccepts(shape) : undefined;
  return {
    accepts: (value): value is T => (generated ? generated(value) : errors(value, 1).length === 0),
    errors,
  };
}
