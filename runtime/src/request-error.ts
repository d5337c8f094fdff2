// The runtime's domain errors: each carries the HTTP status the error middleware answers with.
import type { FieldError } from "./validation/shape-validator.js";

/** A request the runtime refuses, with a status, a stable code and (for bad input) the fields at fault. */
export class RequestError extends Error {
  override readonly name = "RequestError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: readonly FieldError[] = [],
  ) {
    super(message);
  }
}

/** 400 for input that fails the model's schema, naming every bad field. */
export const invalidInput = (fields: readonly FieldError[]): RequestError =>
  new RequestError(
    400,
    "invalid_input",
    `${fields.length} invalid field${fields.length === 1 ? "" : "s"}: ${fields
      .slice(0, 3)
      .map((f) => `${f.field} ${f.message}`)
      .join("; ")}${fields.length > 3 ? "; ..." : ""}`,
    fields,
  );

/** 503 while the model is not loaded or failed its self-check. */
export const notReady = (reason: string): RequestError =>
  new RequestError(503, "not_ready", `model not ready: ${reason}`);
