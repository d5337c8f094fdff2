// A minimal protobuf wire-format reader: enough to walk an ONNX ModelProto without generated
// bindings. Only the wire types protobuf 3 emits are supported (varint, fixed64, bytes, fixed32).

/** One decoded field: its number, wire type, and where its payload lives. */
export interface ProtoField {
  readonly field: number;
  readonly wireType: number;
  /** Varint payload (wire type 0), as a double: exact below 2^53, sign-corrected for int64. */
  readonly varint: number;
  /** Byte range of a length-delimited (2) or fixed (1, 5) payload within `bytes`. */
  readonly start: number;
  readonly end: number;
}

/** Raised when the bytes are not a well-formed protobuf message. */
export class ProtobufError extends Error {
  override readonly name = "ProtobufError";
}

/** Reads a varint at `pos`; returns the value (int64 two's complement folded to a double) and the next offset. */
function readVarint(bytes: Uint8Array, pos: number): [number, number] {
  let lo = 0;
  let hi = 0;
  let shift = 0;
  let p = pos;
  for (;;) {
    if (p >= bytes.length) throw new ProtobufError(`truncated varint at byte ${pos}`);
    const b = bytes[p++] as number;
    if (shift < 28) lo |= (b & 0x7f) << shift;
    else if (shift === 28) {
      lo |= (b & 0x0f) << 28;
      hi |= (b & 0x7f) >> 4;
    } else hi |= (b & 0x7f) << (shift - 32);
    if ((b & 0x80) === 0) break;
    shift += 7;
    if (shift > 63) throw new ProtobufError(`varint longer than 10 bytes at byte ${pos}`);
  }
  const loU = lo >>> 0;
  // A set top bit means a negative int64: fold it back with two's complement.
  if (hi & 0x80000000) return [(hi | 0) * 4294967296 + loU, p];
  return [(hi >>> 0) * 4294967296 + loU, p];
}

/** Decodes the top-level fields of one message (not recursive: nested messages stay as byte ranges). */
export function readFields(bytes: Uint8Array, start = 0, end = bytes.length): ProtoField[] {
  const fields: ProtoField[] = [];
  let pos = start;
  while (pos < end) {
    const [key, afterKey] = readVarint(bytes, pos);
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    pos = afterKey;
    switch (wireType) {
      case 0: {
        const [value, next] = readVarint(bytes, pos);
        fields.push({ field, wireType, varint: value, start: pos, end: next });
        pos = next;
        break;
      }
      case 1:
        fields.push({ field, wireType, varint: 0, start: pos, end: pos + 8 });
        pos += 8;
        break;
      case 2: {
        const [length, next] = readVarint(bytes, pos);
        fields.push({ field, wireType, varint: 0, start: next, end: next + length });
        pos = next + length;
        break;
      }
      case 5:
        fields.push({ field, wireType, varint: 0, start: pos, end: pos + 4 });
        pos += 4;
        break;
      default:
        throw new ProtobufError(
          `unsupported wire type ${wireType} for field ${field} at byte ${pos}`,
        );
    }
    if (pos > end) throw new ProtobufError(`field ${field} runs past the end of its message`);
  }
  return fields;
}

const utf8 = new TextDecoder("utf-8", { fatal: false });

/** The UTF-8 string held by a length-delimited field. */
export function fieldString(bytes: Uint8Array, f: ProtoField): string {
  return utf8.decode(bytes.subarray(f.start, f.end));
}

/** A float32 held by a fixed32 field. */
export function fieldFloat(bytes: Uint8Array, f: ProtoField): number {
  return new DataView(bytes.buffer, bytes.byteOffset + f.start, 4).getFloat32(0, true);
}

/** Appends the floats of a repeated float field (packed or not) to `out`. */
export function appendFloats(bytes: Uint8Array, f: ProtoField, out: number[]): void {
  if (f.wireType === 5) {
    out.push(fieldFloat(bytes, f));
    return;
  }
  if (f.wireType !== 2 || (f.end - f.start) % 4 !== 0) {
    throw new ProtobufError(`field ${f.field} is not a packed float list`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + f.start, f.end - f.start);
  for (let i = 0; i < view.byteLength; i += 4) out.push(view.getFloat32(i, true));
}

/** Appends the doubles of a repeated double field (packed or not) to `out`. */
export function appendDoubles(bytes: Uint8Array, f: ProtoField, out: number[]): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset + f.start, f.end - f.start);
  if (f.wireType !== 1 && (f.wireType !== 2 || view.byteLength % 8 !== 0)) {
    throw new ProtobufError(`field ${f.field} is not a packed double list`);
  }
  for (let i = 0; i < view.byteLength; i += 8) out.push(view.getFloat64(i, true));
}

/** Appends the integers of a repeated varint field (packed or not) to `out`. */
export function appendVarints(bytes: Uint8Array, f: ProtoField, out: number[]): void {
  if (f.wireType === 0) {
    out.push(f.varint);
    return;
  }
  if (f.wireType !== 2) throw new ProtobufError(`field ${f.field} is not a varint list`);
  let pos = f.start;
  while (pos < f.end) {
    const [value, next] = readVarint(bytes, pos);
    out.push(value);
    pos = next;
  }
}
