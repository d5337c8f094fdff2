// The bytes of an input file, from a path, an http(s) URL or an s3:// object, readable from any
// offset: what a CSV shard needs to start at its own byte range instead of reading the file
// from the top.
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Readable } from "node:stream";
import type { ListedObject } from "./input-plan.js";
import {
  isS3Location,
  parseS3Location,
  S3ObjectStore,
  s3AccessFromEnv,
} from "./s3-object-store.js";

/** A file's size and a way to stream it from an offset. */
export interface ByteSource {
  /** Where it is, for messages. */
  readonly name: string;
  readonly size: number;
  open(from: number): AsyncIterable<Uint8Array>;
}

/** Raised when the input cannot be read at all (a missing file, an HTTP error). */
export class InputError extends Error {
  override readonly name = "InputError";
}

const isUrl = (location: string) => /^https?:\/\//.test(location);

/** A local file. */
async function fileSource(path: string): Promise<ByteSource> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (err) {
    throw new InputError(`cannot read ${path}: ${(err as Error).message}`);
  }
  return {
    name: path,
    size,
    open: (from) => createReadStream(path, { start: from, highWaterMark: 1 << 20 }),
  };
}

async function get(url: string, headers: Record<string, string> = {}): Promise<Response> {
  const res = await fetch(url, { headers });
  if (!res.ok) throw new InputError(`GET ${url}: HTTP ${res.status}`);
  return res;
}

/** An http(s) URL: ranged GETs where the server supports them, else the bytes before are skipped. */
async function urlSource(url: string): Promise<ByteSource> {
  const head = await fetch(url, { method: "HEAD" });
  const size = Number(head.headers.get("content-length"));
  if (!head.ok || !Number.isFinite(size)) {
    throw new InputError(`HEAD ${url}: HTTP ${head.status}, no content-length`);
  }
  async function* open(from: number): AsyncIterable<Uint8Array> {
    const res = await get(url, from > 0 ? { range: `bytes=${from}-` } : {});
    if (!res.body) return;
    let skip = res.status === 206 ? 0 : from;
    for await (const chunk of Readable.fromWeb(res.body as never) as AsyncIterable<Buffer>) {
      if (skip >= chunk.length) {
        skip -= chunk.length;
        continue;
      }
      yield skip > 0 ? chunk.subarray(skip) : chunk;
      skip = 0;
    }
  }
  return { name: url, size, open };
}

/**
 * An s3:// object: ranged GETs signed with the environment's keys. With a `listed` object (a
 * piece of a prefix) its size is the listing's and a GET whose ETag differs from the listed
 * one fails: the object changed after the listing the shards planned from.
 */
export async function s3Source(location: string, listed?: ListedObject): Promise<ByteSource> {
  const store = new S3ObjectStore(s3AccessFromEnv(process.env));
  const loc = parseS3Location(location);
  const size = listed ? listed.size : await store.size(loc);
  async function* open(from: number): AsyncIterable<Uint8Array> {
    const res = await store.get(loc, from);
    if (listed) unchangedSince(location, listed, res);
    if (!res.body) return;
    yield* Readable.fromWeb(res.body as never) as AsyncIterable<Buffer>;
  }
  return { name: location, size, open };
}

/** Throws when an object's GET answer has another ETag than the listing gave. */
export function unchangedSince(location: string, listed: ListedObject, res: Response): void {
  const etag = res.headers.get("etag");
  if (listed.etag && etag && etag !== listed.etag) {
    throw new InputError(
      `${location} changed after the input was listed (ETag ${listed.etag}, now ${etag}): a run's input must not change while it runs`,
    );
  }
}

/** The byte source for a path, URL or s3:// object. */
export function openByteSource(location: string): Promise<ByteSource> {
  if (isS3Location(location)) return s3Source(location);
  return isUrl(location) ? urlSource(location) : fileSource(location);
}
