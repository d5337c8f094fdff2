import { describe, expect, it } from "vitest";
import {
  appendFloats,
  appendVarints,
  fieldString,
  ProtobufError,
  readFields,
} from "./protobuf-reader.js";

/** Encodes a varint the way protobuf does (int64 negatives as 10-byte two's complement). */
function varint(value: bigint): number[] {
  let v = BigInt.asUintN(64, value);
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) b |= 0x80;
    out.push(b);
  } while (v !== 0n);
  return out;
}

describe("protobuf reader", () => {
  it("decodes varints including large and negative int64", () => {
    for (const n of [
      0n,
      1n,
      127n,
      128n,
      300n,
      2n ** 31n,
      2n ** 40n + 5n,
      2n ** 52n,
      -1n,
      -2n,
      -300n,
    ]) {
      const bytes = Uint8Array.from([0x08, ...varint(n)]);
      const [f] = readFields(bytes);
      expect(f?.varint).toBe(Number(n));
    }
  });

  it("decodes strings, packed varints and packed floats", () => {
    const floats = new Float32Array([1.5, -2.25]);
    const floatBytes = new Uint8Array(floats.buffer);
    const ints = [...varint(3n), ...varint(1000n)];
    const bytes = Uint8Array.from([
      0x0a,
      3,
      ...Buffer.from("abc"),
      0x12,
      ints.length,
      ...ints,
      0x1a,
      floatBytes.length,
      ...floatBytes,
    ]);
    const [s, i, f] = readFields(bytes);
    expect(fieldString(bytes, s as never)).toBe("abc");
    const outInts: number[] = [];
    appendVarints(bytes, i as never, outInts);
    expect(outInts).toEqual([3, 1000]);
    const outFloats: number[] = [];
    appendFloats(bytes, f as never, outFloats);
    expect(outFloats).toEqual([1.5, -2.25]);
  });

  it("rejects truncated input", () => {
    expect(() => readFields(Uint8Array.from([0x0a, 10, 1, 2]))).toThrow(ProtobufError);
    expect(() => readFields(Uint8Array.from([0x08, 0x80]))).toThrow(ProtobufError);
  });
});
