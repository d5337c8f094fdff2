// The gRPC infer messages to and from the REST form, table-style.
import { describe, expect, it } from "vitest";
import { type InferRequestMessage, responseOf, restFormOf } from "./infer-messages.js";

const base = { model_name: "bank", model_version: "", id: "", parameters: {}, outputs: [] };

describe("restFormOf", () => {
  it("reads each datatype's typed contents as JSON data, and parameters as plain values", () => {
    const message: InferRequestMessage = {
      ...base,
      id: "g-1",
      parameters: { priority: { parameter_choice: "int64_param", int64_param: 2 } },
      inputs: [
        { name: "Age", datatype: "INT64", shape: [2], contents: { int64_contents: [30, 40] } },
        {
          name: "Geo",
          datatype: "BYTES",
          shape: [2, 1],
          contents: { bytes_contents: [Buffer.from("France"), Buffer.from("Spañ")] },
        },
        { name: "Card", datatype: "BOOL", shape: [2], contents: { bool_contents: [true, false] } },
        { name: "Bal", datatype: "FP32", shape: [2], contents: { fp32_contents: [1.5, 2] } },
        { name: "Ten", datatype: "UINT8", shape: [2], contents: { uint_contents: [1, 2] } },
        { name: "Empty", datatype: "FP64", shape: [0], contents: { fp64_contents: [] } },
        { name: "Missing", datatype: "FP64", shape: [1], contents: null },
      ],
      outputs: [
        { name: "probability", parameters: {} },
        {
          name: "contributions",
          parameters: { binary_data: { parameter_choice: "bool_param", bool_param: true } },
        },
      ],
    };
    const { json, binary } = restFormOf(message);
    expect(binary.length).toBe(0);
    expect(json).toEqual({
      id: "g-1",
      parameters: { priority: 2 },
      inputs: [
        { name: "Age", datatype: "INT64", shape: [2], data: [30, 40] },
        { name: "Geo", datatype: "BYTES", shape: [2, 1], data: ["France", "Spañ"] },
        { name: "Card", datatype: "BOOL", shape: [2], data: [true, false] },
        { name: "Bal", datatype: "FP32", shape: [2], data: [1.5, 2] },
        { name: "Ten", datatype: "UINT8", shape: [2], data: [1, 2] },
        { name: "Empty", datatype: "FP64", shape: [0], data: [] },
        // No data: the shared translation refuses it by name.
        { name: "Missing", datatype: "FP64", shape: [1] },
      ],
      outputs: [
        { name: "probability" },
        { name: "contributions", parameters: { binary_data: true } },
      ],
    });
  });

  it("turns raw_input_contents into binary data, the i-th buffer sized on the i-th input", () => {
    const a = Buffer.alloc(16, 1);
    const b = Buffer.from([5, 0, 0, 0, 104, 101, 108, 108, 111]);
    const { json, binary } = restFormOf({
      ...base,
      inputs: [
        { name: "Age", datatype: "INT64", shape: [2], contents: null },
        { name: "Geo", datatype: "BYTES", shape: [1], contents: null },
        { name: "Extra", datatype: "INT64", shape: [1], contents: null },
      ],
      raw_input_contents: [a, b],
    });
    expect(binary).toEqual(Buffer.concat([a, b]));
    expect((json as { inputs: unknown[] }).inputs).toEqual([
      { name: "Age", datatype: "INT64", shape: [2], parameters: { binary_data_size: 16 } },
      { name: "Geo", datatype: "BYTES", shape: [1], parameters: { binary_data_size: 9 } },
      // More inputs than raw buffers: an empty one, which the shared translation refuses.
      { name: "Extra", datatype: "INT64", shape: [1], parameters: { binary_data_size: 0 } },
    ]);
  });
});

describe("responseOf", () => {
  it("answers every output as raw contents in order, the id echoed (empty when none)", () => {
    const p = Buffer.alloc(8);
    const l = Buffer.alloc(16);
    const answer = {
      json: {
        model_name: "bank",
        model_version: "d",
        outputs: [
          {
            name: "probability",
            datatype: "FP32",
            shape: [2],
            parameters: { binary_data_size: 8 },
          },
          { name: "label", datatype: "INT64", shape: [2], parameters: { binary_data_size: 16 } },
        ],
      },
      binary: [p, l],
    };
    expect(responseOf(answer)).toEqual({
      model_name: "bank",
      model_version: "d",
      id: "",
      outputs: [
        { name: "probability", datatype: "FP32", shape: [2] },
        { name: "label", datatype: "INT64", shape: [2] },
      ],
      raw_output_contents: [p, l],
    });
  });
});

describe("responseOf with explanations", () => {
  it("says what they explain in the response's parameters", () => {
    const answer = {
      json: {
        model_name: "bank",
        model_version: "d",
        parameters: { explains: "uncalibrated-margin" as const },
        outputs: [],
      },
      binary: [],
    };
    expect(responseOf(answer).parameters).toEqual({
      explains: { string_param: "uncalibrated-margin" },
    });
  });
});
