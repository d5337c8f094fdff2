// The sticky key of a gRPC ModelInfer request: the first value of the id column's input, from
// its typed contents or (under raw_input_contents) its raw bytes, read by the same rules as the
// REST body's (sticky-key.ts's idOf over the message's REST form) so a customer keeps its
// variant whichever protocol it is scored over.
import type { InferRequestMessage } from "../grpc/infer-messages.js";
import { restFormOf } from "../grpc/infer-messages.js";
import { type Datatype, decodeBinary } from "../http/v2/tensor-datatypes.js";
import { idOf } from "./sticky-key.js";

/** The customer id a ModelInfer request is about, or undefined when it names none. */
export function grpcStickyKeyOf(
  message: InferRequestMessage,
  idColumn: string | null | undefined,
): string | undefined {
  if (!idColumn) return undefined;
  const inputs = message.inputs ?? [];
  const raw = message.raw_input_contents ?? [];
  if (raw.length === 0) return idOf(restFormOf(message).json, idColumn);
  const i = inputs.findIndex((input) => input.name === idColumn);
  const input = inputs[i];
  const bytes = raw[i];
  if (!input || !bytes) return undefined;
  const count = (input.shape ?? []).reduce((n, d) => n * d, 1);
  if (!Number.isSafeInteger(count) || count <= 0) return undefined;
  try {
    // The inputs refused here are refused by the serving pod too; any variant may say so.
    return idOf(
      {
        inputs: [{ name: idColumn, data: decodeBinary(input.datatype as Datatype, bytes, count) }],
      },
      idColumn,
    );
  } catch {
    return undefined;
  }
}
