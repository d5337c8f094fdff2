import { describe, expect, it } from "vitest";
import type { InferRequestMessage } from "../grpc/infer-messages.js";
import { grpcStickyKeyOf } from "./grpc-sticky-key.js";

const other = { name: "Age", datatype: "FP64", shape: [2], contents: { fp64_contents: [30, 40] } };

/** BYTES elements as raw contents: a 4-byte little-endian length, then the bytes. */
function rawBytes(values: string[]): Buffer {
  return Buffer.concat(
    values.flatMap((v) => {
      const length = Buffer.alloc(4);
      length.writeUInt32LE(Buffer.byteLength(v));
      return [length, Buffer.from(v)];
    }),
  );
}

function int64s(values: number[]): Buffer {
  const b = Buffer.alloc(8 * values.length);
  for (const [i, v] of values.entries()) b.writeBigInt64LE(BigInt(v), i * 8);
  return b;
}

describe("grpcStickyKeyOf", () => {
  it("reads the id column's first value from typed contents", () => {
    const message: InferRequestMessage = {
      model_name: "bank",
      inputs: [
        other,
        { name: "CustomerId", datatype: "INT64", shape: [2], contents: { int64_contents: [7, 8] } },
      ],
    };
    expect(grpcStickyKeyOf(message, "CustomerId")).toBe("7");
  });

  it("reads it from raw contents, numbers and strings alike (a number and its text are one customer)", () => {
    const numbers: InferRequestMessage = {
      model_name: "bank",
      inputs: [
        { ...other, contents: null },
        { name: "CustomerId", datatype: "INT64", shape: [2, 1] },
      ],
      raw_input_contents: [Buffer.alloc(16), int64s([7, 8])],
    };
    expect(grpcStickyKeyOf(numbers, "CustomerId")).toBe("7");
    const strings: InferRequestMessage = {
      model_name: "bank",
      inputs: [{ name: "CustomerId", datatype: "BYTES", shape: [2] }],
      raw_input_contents: [rawBytes(["7", "8"])],
    };
    expect(grpcStickyKeyOf(strings, "CustomerId")).toBe("7");
  });

  it("has no key without an id column, without its input, or with malformed raw contents", () => {
    const message: InferRequestMessage = {
      model_name: "bank",
      inputs: [{ name: "CustomerId", datatype: "INT64", shape: [2] }],
      raw_input_contents: [Buffer.alloc(3)],
    };
    expect(grpcStickyKeyOf(message, "CustomerId")).toBeUndefined();
    expect(grpcStickyKeyOf({ model_name: "bank", inputs: [other] }, "CustomerId")).toBeUndefined();
    expect(grpcStickyKeyOf({ model_name: "bank", inputs: [other] }, null)).toBeUndefined();
    const empty = {
      model_name: "bank",
      inputs: [
        {
          name: "CustomerId",
          datatype: "BYTES",
          shape: [1],
          contents: { bytes_contents: [Buffer.from("")] },
        },
      ],
    };
    expect(grpcStickyKeyOf(empty, "CustomerId")).toBeUndefined();
  });
});
