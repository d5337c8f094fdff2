// The router reads each request body whole before forwarding: the body names the customer
// (sticky assignment), and may be sent twice (the canary's fallback to stable, a mirrored
// copy). The same size limit as the serving runtime's applies, with the same 413.
import type { IncomingMessage } from "node:http";
import type { Context } from "koa";
import { RequestError } from "../request-error.js";

const EMPTY = Buffer.alloc(0);

/** Reads a request body of at most `limitBytes`; 413 above it. */
export async function readRequestBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? Number.NaN);
  if (declared > limitBytes) throw tooLarge(limitBytes);
  if (declared === 0) return EMPTY;
  // Events rather than an async iterator: this runs once per routed request.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        req.off("data", onData);
        req.pause();
        reject(tooLarge(limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => {
      if (size <= limitBytes) resolve(size === 0 ? EMPTY : Buffer.concat(chunks, size));
    });
    req.once("error", reject);
    req.once("aborted", () =>
      reject(new RequestError(400, "aborted", "the client aborted the request")),
    );
  });
}

/** A koa request's body; one too large also closes the connection after the reply. */
export async function readBody(ctx: Context, maxBytes: number): Promise<Buffer> {
  try {
    return await readRequestBody(ctx.req, maxBytes);
  } catch (err) {
    // Stop reading; the connection is closed after the reply so the client stops sending.
    if (err instanceof RequestError && err.status === 413) ctx.set("connection", "close");
    throw err;
  }
}

const tooLarge = (limit: number) =>
  new RequestError(413, "payload_too_large", `request body exceeds the limit of ${limit} bytes`);
