// Turns an Open Inference Protocol infer request (its JSON and, under the binary tensor data
// extension, the bytes after it) into the rows /v1 scores, and the outputs asked for. Pure: every
// problem is a RequestError naming the input, and the rows are checked by the same validator as
// /v1's instances, so a value is refused with the same message over both protocols.
import { invalidInput, type RequestError } from "../../request-error.js";
import type { Field } from "../../validation/request-rules.js";
import {
  compileValidator,
  type FieldError,
  type ShapeValidator,
} from "../../validation/shape-validator.js";
import {
  INFER_REQUEST_SHAPE,
  type InferRequestJson,
  type RequestedOutputJson,
  type TensorJson,
} from "./infer-request-shape.js";
import { MODEL_OUTPUTS, type OutputSpec, outputNamed } from "./model-outputs.js";
import {
  acceptedDatatypes,
  BinaryTensorError,
  type Datatype,
  decodeBinary,
  jsonElementFits,
} from "./tensor-datatypes.js";

/** What the translation needs from the served model. */
export interface InferInputRules {
  /** The instance's fields (request-rules.ts): raw columns, id, target and dropped columns. */
  fields: readonly Field[];
  /** The instance validator /v1 uses. */
  instance: ShapeValidator<Record<string, unknown>>;
  maxRows: number;
  maxExplainRows: number;
}

/** One output to answer with, and whether as binary data. */
export interface PlannedOutput {
  spec: OutputSpec;
  binary: boolean;
}

/** A request translated: rows to score, outputs to return, the id to echo. */
export interface InferPlan {
  rows: Record<string, unknown>[];
  outputs: PlannedOutput[];
  explain: boolean;
  id?: string;
}

const envelope = compileValidator<InferRequestJson>(INFER_REQUEST_SHAPE);

const bad = (field: string, message: string): RequestError => invalidInput([{ field, message }]);

/** A tensor's row count from its shape: [N] or [N, 1]. */
function rowsOf(input: TensorJson, at: string): number {
  const { shape } = input;
  if (shape.length === 1 || (shape.length === 2 && shape[1] === 1)) return shape[0] as number;
  throw bad(`${at}.shape`, `must be [N] or [N, 1] (one value per row), got [${shape.join(", ")}]`);
}

/** The flat elements of JSON data, flat or nested. */
function flatten(data: unknown, at: string): unknown[] {
  if (!Array.isArray(data)) throw bad(`${at}.data`, "must be an array");
  return data.some(Array.isArray) ? (data as unknown[]).flat(Number.POSITIVE_INFINITY) : data;
}

/** Reads a binary_data_size parameter, if there is one. */
function binarySize(input: TensorJson, at: string): number | undefined {
  const size = input.parameters?.binary_data_size;
  if (size === undefined) return undefined;
  if (!Number.isSafeInteger(size) || (size as number) < 0) {
    throw bad(`${at}.parameters.binary_data_size`, "must be a non-negative integer");
  }
  return size as number;
}

/** Reads binary tensor data in order after the JSON header. */
class BinaryCursor {
  private offset = 0;
  constructor(private readonly bytes: Buffer) {}

  take(size: number, at: string): Buffer {
    if (this.offset + size > this.bytes.length) {
      throw bad(
        `${at}.parameters.binary_data_size`,
        `is ${size}, but only ${this.bytes.length - this.offset} bytes of binary data are left`,
      );
    }
    const part = this.bytes.subarray(this.offset, this.offset + size);
    this.offset += size;
    return part;
  }

  /** Refuses bytes no input claimed. */
  finish(): void {
    const left = this.bytes.length - this.offset;
    if (left > 0) throw bad("(body)", `holds ${left} bytes of binary data that no input claims`);
  }
}

/** The elements of one input: its JSON data or its binary data. */
function elementsOf(input: TensorJson, count: number, cursor: BinaryCursor, at: string): unknown[] {
  const size = binarySize(input, at);
  const datatype = input.datatype as Datatype;
  if (size !== undefined) {
    if (input.data !== undefined) {
      throw bad(at, "has both data and parameters.binary_data_size; send one");
    }
    try {
      return decodeBinary(datatype, cursor.take(size, at), count);
    } catch (err) {
      if (err instanceof BinaryTensorError) throw bad(at, `binary ${datatype} data ${err.message}`);
      throw err;
    }
  }
  if (input.data === undefined) throw bad(at, "has neither data nor parameters.binary_data_size");
  const values = flatten(input.data, at);
  if (values.length !== count) {
    throw bad(
      `${at}.data`,
      `holds ${values.length} elements; shape [${input.shape.join(", ")}] needs ${count}`,
    );
  }
  const wrong = values.findIndex((v) => !jsonElementFits(datatype, v));
  if (wrong >= 0) {
    throw bad(
      `${at}.data[${wrong}]`,
      `is not a ${datatype} value: ${JSON.stringify(values[wrong])?.slice(0, 40)}`,
    );
  }
  return values;
}

/** The column an input names, checked for its datatype. */
function columnOf(input: TensorJson, byName: ReadonlyMap<string, Field>, at: string): Field {
  const column = byName.get(input.name);
  if (!column) {
    throw bad(`${at}.name`, `${JSON.stringify(input.name)} is not an input of this model`);
  }
  const accepted = acceptedDatatypes(column);
  if (!accepted.includes(input.datatype as Datatype)) {
    throw bad(
      `${at}.datatype`,
      `${input.datatype} is not accepted for ${input.name}; send ${accepted.join(", ")}`,
    );
  }
  return column;
}

/** Reads every input's elements by column name; all must hold the same number of rows. */
function readColumns(
  inputs: readonly TensorJson[],
  rules: InferInputRules,
  binary: Buffer,
): { columns: Map<string, unknown[]>; rows: number } {
  const byName = new Map(rules.fields.map((f) => [f.name, f]));
  const columns = new Map<string, unknown[]>();
  const cursor = new BinaryCursor(binary);
  let rows: number | undefined;
  inputs.forEach((input, i) => {
    const at = `inputs[${i}]`;
    columnOf(input, byName, at);
    if (columns.has(input.name))
      throw bad(`${at}.name`, `${JSON.stringify(input.name)} is sent twice`);
    const n = rowsOf(input, at);
    if (rows !== undefined && n !== rows) {
      throw bad(`${at}.shape`, `has ${n} rows; the inputs before it have ${rows}`);
    }
    rows = n;
    columns.set(input.name, elementsOf(input, n, cursor, at));
  });
  cursor.finish();
  const missing = rules.fields.filter((f) => f.required && !columns.has(f.name)).map((f) => f.name);
  if (missing.length > 0) {
    throw bad(
      "inputs",
      `lacks ${missing.map((m) => JSON.stringify(m)).join(", ")} (one tensor per column)`,
    );
  }
  return { columns, rows: rows as number };
}

/** The rows of the columns, checked by /v1's instance validator; errors name `Column[row]`. */
function checkedRows(
  columns: Map<string, unknown[]>,
  rows: number,
  rules: InferInputRules,
): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = new Array(rows);
  const names = [...columns.keys()];
  const values = [...columns.values()];
  for (let r = 0; r < rows; r++) {
    const row: Record<string, unknown> = {};
    for (let c = 0; c < names.length; c++) {
      row[names[c] as string] = (values[c] as unknown[])[r];
    }
    out[r] = row;
  }
  const errors: FieldError[] = [];
  for (let r = 0; r < rows && errors.length < 50; r++) {
    const row = out[r] as Record<string, unknown>;
    if (rules.instance.accepts(row)) continue;
    for (const e of rules.instance.errors(row, 50 - errors.length)) {
      errors.push({ field: `${e.field}[${r}]`, message: e.message });
    }
  }
  if (errors.length > 0) throw invalidInput(errors);
  return out;
}

/** The outputs to answer with: those asked for (each known, once), else the default ones. */
function planOutputs(request: InferRequestJson): PlannedOutput[] {
  const allBinary = request.parameters?.binary_data_output === true;
  // An empty list names nothing: the defaults, as when the list is absent.
  const asked: RequestedOutputJson[] = request.outputs?.length
    ? request.outputs
    : MODEL_OUTPUTS.filter((o) => o.byDefault).map((o) => ({ name: o.name }));
  const seen = new Set<string>();
  const planned: PlannedOutput[] = [];
  asked.forEach((o, i) => {
    const spec = outputNamed(o.name);
    if (!spec) {
      throw bad(
        `outputs[${i}].name`,
        `${JSON.stringify(o.name)} is not an output of this model; its outputs are ${MODEL_OUTPUTS.map((m) => m.name).join(", ")}`,
      );
    }
    if (seen.has(o.name)) return;
    seen.add(o.name);
    const own = o.parameters?.binary_data;
    planned.push({ spec, binary: typeof own === "boolean" ? own : allBinary });
  });
  return planned;
}

/** Translates an infer request's JSON (and its binary data) into rows and outputs. */
export function readInferRequest(json: unknown, binary: Buffer, rules: InferInputRules): InferPlan {
  if (!envelope.accepts(json)) throw invalidInput(envelope.errors(json));
  const outputs = planOutputs(json);
  const explain = outputs.some((o) => o.spec.explained);
  const { columns, rows } = readColumns(json.inputs, rules, binary);
  const limit = explain ? rules.maxExplainRows : rules.maxRows;
  if (rows < 1 || rows > limit) {
    throw bad(
      "inputs",
      `hold ${rows} rows; a request takes 1 to ${limit}${explain ? " when explanations are asked for" : ""}`,
    );
  }
  const plan: InferPlan = { rows: checkedRows(columns, rows, rules), outputs, explain };
  if (json.id !== undefined) plan.id = json.id;
  return plan;
}
