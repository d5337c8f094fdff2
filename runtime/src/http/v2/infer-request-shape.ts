// The JSON of an Open Inference Protocol infer request (the JSON header, under the binary tensor
// data extension), written in the same request-rule terms as /v1's body: the validator names
// every bad field from it and the OpenAPI document is read off it.
import type { Field, ObjectShape, Rule } from "../../validation/request-rules.js";
import { DATATYPES } from "./tensor-datatypes.js";

/** One input tensor as the request's JSON carries it. */
export interface TensorJson {
  name: string;
  shape: number[];
  datatype: string;
  parameters?: Record<string, unknown>;
  data?: unknown;
}

/** One requested output. */
export interface RequestedOutputJson {
  name: string;
  parameters?: Record<string, unknown>;
}

/** The request's JSON. */
export interface InferRequestJson {
  id?: string;
  model_name?: string;
  parameters?: Record<string, unknown>;
  inputs: TensorJson[];
  outputs?: RequestedOutputJson[];
}

const field = (
  name: string,
  type: Field["type"],
  expected: string,
  more: Partial<Field> = {},
): Field => ({ name, required: false, nullable: false, type, expected, rules: [], ...more });

const isObject = (v: unknown): boolean => typeof v === "object" && v !== null && !Array.isArray(v);
const OBJECT: Rule = { test: isObject, message: "must be an object", json: { type: "object" } };
const parameters = (description: string): Field =>
  field("parameters", "any", "an object", { rules: [OBJECT], description });

/** One input tensor. */
export const TENSOR_SHAPE: ObjectShape = {
  expected: "an object (an input tensor)",
  component: "V2InputTensor",
  fields: [
    field("name", "string", "a string", {
      required: true,
      description: "A raw column of the model's schema (or its id column)",
    }),
    field("shape", "array", "an array", {
      required: true,
      description: "[N] or [N, 1]: one element per row",
      rules: [
        {
          test: (v) => (v as unknown[]).every((d) => Number.isSafeInteger(d) && (d as number) >= 0),
          message: "must hold non-negative integers",
          json: { items: { type: "integer", minimum: 0 } },
        },
      ],
    }),
    field("datatype", "string", "a string", {
      required: true,
      rules: [
        {
          test: (v) => (DATATYPES as readonly string[]).includes(v as string),
          message: `must be one of ${DATATYPES.join(", ")}`,
          json: { enum: [...DATATYPES] },
        },
      ],
    }),
    parameters("binary_data_size: the bytes of this tensor after the JSON header"),
    field("data", "any", "anything", {
      description: "The elements, flat or nested in row-major order; absent when sent as binary",
    }),
  ],
};

/** One requested output. */
export const REQUESTED_OUTPUT_SHAPE: ObjectShape = {
  expected: "an object (a requested output)",
  component: "V2RequestedOutput",
  fields: [
    field("name", "string", "a string", {
      required: true,
      description: "probability, label, contributions or base_value",
    }),
    parameters("binary_data: true to receive this output as binary data"),
  ],
};

/** The infer request's JSON: inputs, optional id, parameters and requested outputs. */
export const INFER_REQUEST_SHAPE: ObjectShape = {
  expected: 'a JSON object with "inputs"',
  fields: [
    field("id", "string", "a string", { description: "Echoed back in the response" }),
    field("model_name", "string", "a string", { description: "Ignored: the URL names the model" }),
    parameters("binary_data_output: true for every output as binary data; others are ignored"),
    field("inputs", "array", "an array of input tensors", {
      required: true,
      items: TENSOR_SHAPE,
      rules: [
        {
          test: (v) => (v as unknown[]).length >= 1,
          message: "must hold at least one input",
          measuresLength: true,
          json: { minItems: 1 },
        },
      ],
    }),
    field("outputs", "array", "an array of requested outputs", {
      items: REQUESTED_OUTPUT_SHAPE,
      description: "Which outputs to return; without it, probability and label",
    }),
  ],
};
