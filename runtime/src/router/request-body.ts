// The router reads each request body whole before forwarding: the body names the customer
// (sticky assignment), and may be sent twice (the canary's fallback to stable, a mirrored
// copy). The same size limit as the serving runtime's applies, with the same 413.
import type { IncomingMessage } from "node:http";
import { RequestError } from "../request-error.js";

const EMPTY = Buffer.alloc(0);

/** Reads a request body of at most `limitBytes`; 413 above it. */
export async function readRequestBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? Number.NaN);
  if (declared > limitBytes) throw tooLarge(limitBytes);
  if (declared === 0) return EMPTY;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limitBytes) throw tooLarge(limitBytes);
    chunks.push(chunk as Buffer);
  }
  return size === 0 ? EMPTY : Buffer.concat(chunks, size);
}

const tooLarge = (limit: number) =>
  new RequestError(413, "payload_too_large", `request body exceeds the limit of ${limit} bytes`);
