// The gRPC modules are imported only when a gRPC port is configured: @grpc/proto-loader runs
// protobufjs, whose message codecs exist only as code it generates from strings (its reflection
// has no interpreted encoder or decoder), and it builds some at import. Under node's
// --disallow-code-generation-from-strings that import would kill the process, HTTP included;
// loaded here, a process without gRPC never touches protobufjs, and one with gRPC refuses to
// start with a message saying why and how to turn gRPC off.
import { codeGenerationAllowed, NO_CODEGEN_FLAG } from "../code-generation.js";
import { SETTINGS } from "../config.js";

/** gRPC was configured where protobufjs cannot run. */
export class GrpcUnavailableError extends Error {
  override readonly name = "GrpcUnavailableError";
}

/** Why gRPC cannot run in this process (the message of the refusal). */
export const GRPC_WITHOUT_CODEGEN =
  `gRPC cannot run under node ${NO_CODEGEN_FLAG}: protobufjs (under @grpc/proto-loader) ` +
  "builds its message codecs as generated code. Turn gRPC off (drop " +
  `--${SETTINGS.grpcPort.flag} / ${SETTINGS.grpcPort.env}; for a ChurnModel, ` +
  "spec.grpc.enabled: false) to serve /v1 and /v2 over HTTP with the flag, or run without it";

/** Imports a gRPC module with `load`; refuses where code generation from strings is off. */
export function importGrpc<T>(load: () => Promise<T>): Promise<T> {
  if (!codeGenerationAllowed) return Promise.reject(new GrpcUnavailableError(GRPC_WITHOUT_CODEGEN));
  return load();
}
