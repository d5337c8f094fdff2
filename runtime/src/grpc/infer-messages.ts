// The gRPC form of an infer call, translated to and from the REST form the protocol's shared
// code reads (runtime/src/http/v2/): typed contents become JSON data, raw_input_contents become
// binary data with their sizes, and every output is answered as raw_output_contents (Triton's
// gRPC answer, which tritonclient and the kserve SDK read). Pure: no gRPC types at run time.
import type { InferAnswer } from "../http/v2/infer-answer.js";

/** An InferParameter as @grpc/proto-loader decodes it (oneofs: true, longs as numbers). */
export interface ParameterMessage {
  parameter_choice?: "bool_param" | "int64_param" | "string_param";
  bool_param?: boolean;
  int64_param?: number;
  string_param?: string;
}

/** InferTensorContents: one repeated field per element kind. */
export interface ContentsMessage {
  bool_contents?: boolean[];
  int_contents?: number[];
  int64_contents?: number[];
  uint_contents?: number[];
  uint64_contents?: number[];
  fp32_contents?: number[];
  fp64_contents?: number[];
  bytes_contents?: Buffer[];
}

/** ModelInferRequest as decoded. */
export interface InferRequestMessage {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: Record<string, ParameterMessage>;
  inputs?: {
    name: string;
    datatype: string;
    shape?: number[];
    parameters?: Record<string, ParameterMessage>;
    contents?: ContentsMessage | null;
  }[];
  outputs?: { name: string; parameters?: Record<string, ParameterMessage> }[];
  raw_input_contents?: Buffer[];
}

/** ModelInferResponse as encoded. */
export interface InferResponseMessage {
  model_name: string;
  model_version: string;
  id: string;
  parameters?: Record<string, { string_param: string }>;
  outputs: { name: string; datatype: string; shape: number[] }[];
  raw_output_contents: Buffer[];
}

/** Which contents field carries each datatype's elements. */
const CONTENTS: Record<string, keyof ContentsMessage> = {
  BOOL: "bool_contents",
  INT8: "int_contents",
  INT16: "int_contents",
  INT32: "int_contents",
  INT64: "int64_contents",
  UINT8: "uint_contents",
  UINT16: "uint_contents",
  UINT32: "uint_contents",
  UINT64: "uint64_contents",
  FP32: "fp32_contents",
  FP64: "fp64_contents",
  BYTES: "bytes_contents",
};

/** Parameters as plain values. */
function plain(parameters: Record<string, ParameterMessage> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, p] of Object.entries(parameters ?? {})) {
    if (p.parameter_choice) out[key] = p[p.parameter_choice];
  }
  return out;
}

/** An input's elements from its typed contents, or undefined when they are not there. */
function dataOf(
  datatype: string,
  contents: ContentsMessage | null | undefined,
): unknown[] | undefined {
  const field = CONTENTS[datatype];
  const values = field && contents ? contents[field] : undefined;
  if (!values || values.length === 0) return undefined;
  return field === "bytes_contents"
    ? (values as Buffer[]).map((b) => b.toString("utf8"))
    : (values as unknown[]);
}

/** The request as the REST form's JSON and binary data. */
export function restFormOf(message: InferRequestMessage): { json: unknown; binary: Buffer } {
  const raw = message.raw_input_contents ?? [];
  const inputs = (message.inputs ?? []).map((input, i) => {
    const tensor: Record<string, unknown> = {
      name: input.name,
      datatype: input.datatype,
      shape: input.shape ?? [],
    };
    const parameters = plain(input.parameters);
    // With raw contents, the i-th raw buffer is the i-th input's data (the protocol's rule).
    if (raw.length > 0) parameters.binary_data_size = raw[i]?.length ?? 0;
    else {
      const data = dataOf(input.datatype, input.contents);
      if (data !== undefined) tensor.data = data;
      // A tensor with no rows has empty contents, which decode as absent.
      else if ((input.shape ?? []).includes(0)) tensor.data = [];
    }
    if (Object.keys(parameters).length > 0) tensor.parameters = parameters;
    return tensor;
  });
  const json: Record<string, unknown> = { inputs };
  if (message.id) json.id = message.id;
  const parameters = plain(message.parameters);
  if (Object.keys(parameters).length > 0) json.parameters = parameters;
  if (message.outputs && message.outputs.length > 0) {
    json.outputs = message.outputs.map((o) => {
      const p = plain(o.parameters);
      return Object.keys(p).length > 0 ? { name: o.name, parameters: p } : { name: o.name };
    });
  }
  return { json, binary: Buffer.concat(raw) };
}

/** The answer as ModelInferResponse: every output as raw contents, in order. */
export function responseOf(answer: InferAnswer): InferResponseMessage {
  const message: InferResponseMessage = {
    model_name: answer.json.model_name,
    model_version: answer.json.model_version,
    id: answer.json.id ?? "",
    outputs: answer.json.outputs.map(({ name, datatype, shape }) => ({ name, datatype, shape })),
    raw_output_contents: answer.binary,
  };
  const explains = answer.json.parameters?.explains;
  if (explains) message.parameters = { explains: { string_param: explains } };
  return message;
}
