// Reads a JSON request body with a size limit and a content-type check, failing with 4xx.
import type { Context } from "koa";
import { RequestError } from "../request-error.js";

/** Parses the request body as JSON; 415 for another content type, 413 over `limitBytes`, 400 if malformed. */
export async function readJsonBody(ctx: Context, limitBytes: number): Promise<unknown> {
  const type = (ctx.get("content-type") || "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (type !== "application/json" && !/^application\/[a-z0-9.+-]+\+json$/.test(type)) {
    throw new RequestError(
      415,
      "unsupported_media_type",
      `content-type must be application/json, got ${type ? JSON.stringify(type) : "none"}`,
    );
  }
  const declared = Number(ctx.get("content-length") || Number.NaN);
  if (declared > limitBytes) throw tooLarge(limitBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > limitBytes) {
      // Stop reading; the connection is closed after the reply so the client stops sending.
      ctx.set("connection", "close");
      throw tooLarge(limitBytes);
    }
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks, size).toString("utf8");
  if (text.trim() === "") throw new RequestError(400, "malformed_json", "request body is empty");
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new RequestError(
      400,
      "malformed_json",
      `request body is not valid JSON: ${(err as Error).message}`,
    );
  }
}

const tooLarge = (limit: number) =>
  new RequestError(413, "payload_too_large", `request body exceeds the limit of ${limit} bytes`);
