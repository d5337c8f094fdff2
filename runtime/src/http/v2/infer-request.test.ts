// The request -> rows translation of the Open Inference Protocol, table-style, without a server.
import { describe, expect, it } from "vitest";
import type { ModelCard } from "../../artifact/model-card.js";
import { RequestError } from "../../request-error.js";
import { instanceShape } from "../../validation/request-rules.js";
import { compileValidator } from "../../validation/shape-validator.js";
import { type InferInputRules, readInferRequest } from "./infer-request.js";

const card = {
  formatVersion: 1,
  digest: "a".repeat(64),
  name: "bank",
  schema: {
    idColumn: "CustomerId",
    target: { column: "Exited" },
    features: [
      { name: "Age", type: "integer", min: 18, max: 100 },
      { name: "Balance", type: "numeric", nullable: true },
      { name: "Geography", type: "categorical", values: ["France", "Spain"] },
      { name: "HasCrCard", type: "boolean" },
    ],
  },
  features: {
    raw: ["Age", "Balance", "Geography", "HasCrCard"],
    encoded: ["Age", "Balance", "Geography_France", "Geography_Spain", "HasCrCard"],
    encodedToRaw: [0, 1, 2, 2, 3],
  },
  threshold: { value: 0.5 },
} as unknown as ModelCard;
const shape = instanceShape(card);
const rules: InferInputRules = {
  fields: shape.fields,
  instance: compileValidator(shape),
  maxRows: 4,
  maxExplainRows: 2,
};

const tensor = (name: string, datatype: string, data: unknown, shape?: number[]) => ({
  name,
  datatype,
  shape: shape ?? [Array.isArray(data) ? data.length : 0],
  data,
});
const columns = (n = 2) => [
  tensor("Age", "INT64", [30, 40].slice(0, n)),
  tensor("Balance", "FP64", [1.5, null].slice(0, n)),
  tensor("Geography", "BYTES", ["France", "Spain"].slice(0, n)),
  tensor("HasCrCard", "BOOL", [true, false].slice(0, n)),
];
const bytesElement = (s: string) => {
  const b = Buffer.from(s);
  const n = Buffer.alloc(4);
  n.writeUInt32LE(b.length);
  return Buffer.concat([n, b]);
};

/** The message of the RequestError `f` throws. */
function refusal(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(RequestError);
    expect((err as RequestError).status).toBe(400);
    return (err as RequestError).message;
  }
  throw new Error("not refused");
}

describe("readInferRequest", () => {
  it("turns one tensor per column into /v1's rows, echoing the id", () => {
    const plan = readInferRequest({ id: "r1", inputs: columns() }, Buffer.alloc(0), rules);
    expect(plan.rows).toEqual([
      { Age: 30, Balance: 1.5, Geography: "France", HasCrCard: true },
      { Age: 40, Balance: null, Geography: "Spain", HasCrCard: false },
    ]);
    expect(plan.id).toBe("r1");
    expect(plan.explain).toBe(false);
    expect(plan.outputs.map((o) => [o.spec.name, o.binary])).toEqual([
      ["probability", false],
      ["label", false],
    ]);
  });

  it("takes [N, 1] shapes, nested data, numbers for a flag and the optional id column", () => {
    const inputs = [
      tensor("Age", "INT32", [[30], [40]], [2, 1]),
      tensor("Balance", "FP32", [[0], [2]], [2, 1]),
      tensor("Geography", "BYTES", ["Spain", "Spain"]),
      tensor("HasCrCard", "UINT8", [1, 0]),
      tensor("CustomerId", "INT64", [7, 8]),
    ];
    const plan = readInferRequest({ inputs }, Buffer.alloc(0), rules);
    expect(plan.rows[1]).toEqual({
      Age: 40,
      Balance: 2,
      Geography: "Spain",
      HasCrCard: 0,
      CustomerId: 8,
    });
  });

  it("reads binary tensor data in input order after the JSON", () => {
    const age = Buffer.alloc(16);
    age.writeBigInt64LE(30n, 0);
    age.writeBigInt64LE(40n, 8);
    const balance = Buffer.alloc(8);
    balance.writeFloatLE(1.5, 0);
    balance.writeFloatLE(Number.NaN, 4);
    const geo = Buffer.concat([bytesElement("France"), bytesElement("Spain")]);
    const flag = Buffer.from([1, 0]);
    const binary = (name: string, datatype: string, bytes: Buffer) => ({
      name,
      datatype,
      shape: [2],
      parameters: { binary_data_size: bytes.length },
    });
    const plan = readInferRequest(
      {
        inputs: [
          binary("Age", "INT64", age),
          binary("Balance", "FP32", balance),
          binary("Geography", "BYTES", geo),
          binary("HasCrCard", "BOOL", flag),
        ],
        outputs: [{ name: "probability", parameters: { binary_data: true } }, { name: "label" }],
      },
      Buffer.concat([age, balance, geo, flag]),
      rules,
    );
    // A NaN float is a missing value.
    expect(plan.rows).toEqual([
      { Age: 30, Balance: 1.5, Geography: "France", HasCrCard: true },
      { Age: 40, Balance: null, Geography: "Spain", HasCrCard: false },
    ]);
    expect(plan.outputs.map((o) => o.binary)).toEqual([true, false]);
  });

  it("asks for explanations only when an explained output is named; binary_data_output for all", () => {
    const plan = readInferRequest(
      {
        inputs: columns(),
        parameters: { binary_data_output: true, priority: 1 },
        outputs: [{ name: "contributions" }, { name: "base_value" }, { name: "contributions" }],
      },
      Buffer.alloc(0),
      rules,
    );
    expect(plan.explain).toBe(true);
    expect(plan.outputs.map((o) => [o.spec.name, o.binary])).toEqual([
      ["contributions", true],
      ["base_value", true],
    ]);
  });

  const refused: [string, unknown, Buffer, RegExp][] = [
    ["no inputs", { id: "x" }, Buffer.alloc(0), /inputs is required/],
    ["a non-object body", [1, 2], Buffer.alloc(0), /expected a JSON object with "inputs"/],
    [
      "an unknown datatype",
      { inputs: [tensor("Age", "INT128", [1])] },
      Buffer.alloc(0),
      /inputs\[0\]\.datatype must be one of BOOL/,
    ],
    [
      "an unknown input",
      { inputs: [...columns(), tensor("Height", "FP32", [1, 2])] },
      Buffer.alloc(0),
      /"Height" is not an input of this model/,
    ],
    [
      "a datatype the column does not take",
      { inputs: [tensor("Geography", "FP32", [1, 2]), ...columns().slice(0, 2)] },
      Buffer.alloc(0),
      /FP32 is not accepted for Geography; send BYTES/,
    ],
    [
      "data that does not fill the shape",
      { inputs: [tensor("Age", "INT64", [30, 40, 50], [2]), ...columns().slice(1)] },
      Buffer.alloc(0),
      /inputs\[0\]\.data holds 3 elements; shape \[2\] needs 2/,
    ],
    [
      "a shape that is not one value per row",
      { inputs: [tensor("Age", "INT64", [30, 40], [1, 2])] },
      Buffer.alloc(0),
      /must be \[N\] or \[N, 1\]/,
    ],
    [
      "a fraction in an integer datatype",
      { inputs: [tensor("Age", "INT64", [30, 40.5]), ...columns().slice(1)] },
      Buffer.alloc(0),
      /inputs\[0\]\.data\[1\] is not a INT64 value: 40.5/,
    ],
    [
      "inputs of different lengths",
      { inputs: [tensor("Age", "INT64", [30]), ...columns().slice(1)] },
      Buffer.alloc(0),
      /inputs\[1\]\.shape has 2 rows; the inputs before it have 1/,
    ],
    ["a missing column", { inputs: columns().slice(1) }, Buffer.alloc(0), /inputs lacks "Age"/],
    [
      "a column sent twice",
      { inputs: [...columns(), tensor("Age", "INT64", [1, 2])] },
      Buffer.alloc(0),
      /"Age" is sent twice/,
    ],
    [
      "a value the schema refuses, named by column and row",
      { inputs: [tensor("Age", "INT64", [30, 12]), ...columns().slice(1)] },
      Buffer.alloc(0),
      /Age\[1\] must be >= 18/,
    ],
    [
      "an unknown category",
      {
        inputs: [
          ...columns().slice(0, 2),
          tensor("Geography", "BYTES", ["France", "Mars"]),
          columns()[3],
        ],
      },
      Buffer.alloc(0),
      /Geography\[1\] unknown category/,
    ],
    [
      "an unknown output",
      { inputs: columns(), outputs: [{ name: "score" }] },
      Buffer.alloc(0),
      /"score" is not an output of this model; its outputs are probability, label, contributions, base_value/,
    ],
    [
      "too many rows",
      {
        inputs: columns().map((t) => ({
          ...t,
          data: Array(5).fill((t.data as unknown[])[0]),
          shape: [5],
        })),
      },
      Buffer.alloc(0),
      /hold 5 rows; a request takes 1 to 4/,
    ],
    [
      "too many rows to explain",
      {
        inputs: columns().map((t) => ({
          ...t,
          data: [...(t.data as unknown[]), (t.data as unknown[])[0]],
          shape: [3],
        })),
        outputs: [{ name: "contributions" }],
      },
      Buffer.alloc(0),
      /1 to 2 when explanations are asked for/,
    ],
    [
      "no rows",
      { inputs: columns().map((t) => ({ ...t, data: [], shape: [0] })) },
      Buffer.alloc(0),
      /hold 0 rows/,
    ],
    [
      "binary data shorter than declared",
      {
        inputs: [
          { name: "Age", datatype: "INT64", shape: [2], parameters: { binary_data_size: 16 } },
        ],
      },
      Buffer.alloc(8),
      /binary_data_size is 16, but only 8 bytes/,
    ],
    [
      "binary data of the wrong size for its shape",
      {
        inputs: [
          { name: "Age", datatype: "INT64", shape: [2], parameters: { binary_data_size: 8 } },
        ],
      },
      Buffer.alloc(8),
      /binary INT64 data holds 8 bytes; 2 INT64 elements take 16/,
    ],
    [
      "BYTES elements running past their data",
      {
        inputs: [
          { name: "Geography", datatype: "BYTES", shape: [1], parameters: { binary_data_size: 5 } },
        ],
      },
      Buffer.from([9, 0, 0, 0, 65]),
      /element 0 runs past its end/,
    ],
    [
      "binary data no input claims",
      { inputs: columns() },
      Buffer.alloc(3),
      /3 bytes of binary data that no input claims/,
    ],
    [
      "both data and binary data",
      { inputs: [{ ...tensor("Age", "INT64", [1]), parameters: { binary_data_size: 8 } }] },
      Buffer.alloc(8),
      /has both data and parameters.binary_data_size/,
    ],
    [
      "neither data nor binary data",
      { inputs: [{ name: "Age", datatype: "INT64", shape: [1] }] },
      Buffer.alloc(0),
      /has neither data nor parameters.binary_data_size/,
    ],
  ];
  it.each(refused)("refuses %s with a 400 naming it", (_, json, binary, message) => {
    expect(refusal(() => readInferRequest(json, binary, rules))).toMatch(message);
  });
});
