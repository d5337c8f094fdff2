// The Open Inference Protocol's tensor datatypes as this server reads and writes them: which
// datatypes a column of each request-rule type accepts, which one its metadata advertises, and
// the fixed-size binary encodings (binary tensor data extension, little-endian).
import type { Field, ValueType } from "../../validation/request-rules.js";

/** Every datatype the protocol names. */
export const DATATYPES = [
  "BOOL",
  "UINT8",
  "UINT16",
  "UINT32",
  "UINT64",
  "INT8",
  "INT16",
  "INT32",
  "INT64",
  "FP16",
  "FP32",
  "FP64",
  "BYTES",
] as const;
export type Datatype = (typeof DATATYPES)[number];

const INTEGERS: readonly Datatype[] = DATATYPES.filter((d) => /^U?INT/.test(d));
/** FP16 is left out: JSON cannot carry it and no column needs it. */
const NUMBERS: readonly Datatype[] = [...INTEGERS, "FP32", "FP64"];

/** The datatypes a column of each request-rule type accepts (the rules then check each value). */
const ACCEPTED: Readonly<Record<ValueType, readonly Datatype[]>> = {
  number: NUMBERS,
  flag: ["BOOL", ...NUMBERS],
  boolean: ["BOOL"],
  string: ["BYTES"],
  "string-or-number": ["BYTES", ...NUMBERS],
  any: DATATYPES.filter((d) => d !== "FP16"),
  // No column is an array; a tensor of them would be one of the above.
  array: [],
};

/** The datatypes `field` accepts. */
export const acceptedDatatypes = (field: Field): readonly Datatype[] => ACCEPTED[field.type];

/** Whether a field's rules make it an integer (their JSON Schema says so). */
const isInteger = (field: Field): boolean => field.rules.some((r) => r.json.type === "integer");

/** The datatype a column's metadata advertises: what a client should send. */
export function advertisedDatatype(field: Field): Datatype {
  switch (field.type) {
    case "number":
      return isInteger(field) ? "INT64" : "FP64";
    case "flag":
      return "BOOL";
    default:
      return "BYTES";
  }
}

/** Whether JSON data holds only integers for an integer datatype, only booleans for BOOL. */
export function jsonElementFits(datatype: Datatype, value: unknown): boolean {
  if (value === null) return true; // null means missing; the column's rules decide
  switch (datatype) {
    case "BOOL":
      return typeof value === "boolean";
    case "BYTES":
      return typeof value === "string";
    case "FP32":
    case "FP64":
      return typeof value === "number";
    default:
      return Number.isInteger(value);
  }
}

/** Bytes per element of the fixed-size datatypes. */
const SIZE: Partial<Record<Datatype, number>> = {
  BOOL: 1,
  UINT8: 1,
  INT8: 1,
  UINT16: 2,
  INT16: 2,
  UINT32: 4,
  INT32: 4,
  FP32: 4,
  UINT64: 8,
  INT64: 8,
  FP64: 8,
};

/** Thrown for binary data that does not match its declared datatype and shape. */
export class BinaryTensorError extends Error {
  override readonly name = "BinaryTensorError";
}

type Reader = (b: Buffer, offset: number) => unknown;
const READ: Partial<Record<Datatype, Reader>> = {
  BOOL: (b, o) => b[o] !== 0,
  UINT8: (b, o) => b.readUInt8(o),
  INT8: (b, o) => b.readInt8(o),
  UINT16: (b, o) => b.readUInt16LE(o),
  INT16: (b, o) => b.readInt16LE(o),
  UINT32: (b, o) => b.readUInt32LE(o),
  INT32: (b, o) => b.readInt32LE(o),
  // Beyond 2^53 the number is inexact: an integer column's rule refuses it as too large.
  UINT64: (b, o) => Number(b.readBigUInt64LE(o)),
  INT64: (b, o) => Number(b.readBigInt64LE(o)),
  // A NaN float is a missing value (as in pandas); the column's rules decide whether it may be.
  FP32: (b, o) => nanToNull(b.readFloatLE(o)),
  FP64: (b, o) => nanToNull(b.readDoubleLE(o)),
};
const nanToNull = (v: number): number | null => (Number.isNaN(v) ? null : v);

/** Reads `count` BYTES elements: each a 4-byte little-endian length, then that many bytes (UTF-8). */
function decodeBytes(raw: Buffer, count: number): string[] {
  const out: string[] = new Array(count);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    if (offset + 4 > raw.length) throw new BinaryTensorError(`ends before element ${i}`);
    const length = raw.readUInt32LE(offset);
    offset += 4;
    if (offset + length > raw.length) throw new BinaryTensorError(`element ${i} runs past its end`);
    out[i] = raw.toString("utf8", offset, offset + length);
    offset += length;
  }
  if (offset !== raw.length) {
    throw new BinaryTensorError(`holds ${raw.length - offset} bytes after its ${count} elements`);
  }
  return out;
}

/** Decodes the binary data of a tensor of `count` elements. */
export function decodeBinary(datatype: Datatype, raw: Buffer, count: number): unknown[] {
  if (datatype === "BYTES") return decodeBytes(raw, count);
  const size = SIZE[datatype];
  const read = READ[datatype];
  if (size === undefined || read === undefined) {
    throw new BinaryTensorError(`${datatype} is not accepted`);
  }
  if (raw.length !== size * count) {
    throw new BinaryTensorError(
      `holds ${raw.length} bytes; ${count} ${datatype} elements take ${size * count}`,
    );
  }
  const out: unknown[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = read(raw, i * size);
  return out;
}

/** The output datatypes this server writes, as little-endian bytes. */
export type OutputDatatype = "FP32" | "FP64" | "INT64";

/** Encodes numbers as one output datatype's binary data. */
export function encodeBinary(datatype: OutputDatatype, values: ArrayLike<number>): Buffer {
  const n = values.length;
  switch (datatype) {
    case "FP32": {
      const b = Buffer.allocUnsafe(n * 4);
      for (let i = 0; i < n; i++) b.writeFloatLE(values[i] as number, i * 4);
      return b;
    }
    case "FP64": {
      const b = Buffer.allocUnsafe(n * 8);
      for (let i = 0; i < n; i++) b.writeDoubleLE(values[i] as number, i * 8);
      return b;
    }
    case "INT64": {
      const b = Buffer.allocUnsafe(n * 8);
      for (let i = 0; i < n; i++) b.writeBigInt64LE(BigInt(values[i] as number), i * 8);
      return b;
    }
  }
}
