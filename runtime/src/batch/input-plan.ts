// Which pieces of a multi-object input (every object under an S3 prefix) a shard reads. The
// objects, in key order, are laid end to end as one run of bytes; shard i owns the bytes
// [i*T/N, (i+1)*T/N) of that run, so each shard gets ~1/N of the bytes whatever the objects'
// sizes, and the pieces of all shards partition every object exactly. A CSV piece then owns the
// records starting in its byte range, a Parquet piece the rows its byte range maps to (pieceRows).
import { createHash } from "node:crypto";
import { type Range, shardRange } from "./shard-range.js";

/** One listed object. */
export interface ListedObject {
  key: string;
  size: number;
  /** The ETag listed: a shard refuses an object whose bytes changed after the listing. */
  etag?: string;
}

/** Part of one object a shard reads: the bytes [start, end) of `object`. */
export interface InputPiece extends Range {
  object: ListedObject;
}

/**
 * The objects of a listing that hold data, in key order: not zero-byte "directory" markers, not
 * keys ending in / and not names starting with _ or . (_SUCCESS, .crc files).
 */
export function dataObjects(listing: readonly ListedObject[]): ListedObject[] {
  return listing
    .filter((o) => {
      const name = o.key.split("/").at(-1) ?? "";
      return o.size > 0 && name !== "" && !name.startsWith("_") && !name.startsWith(".");
    })
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * A digest of the objects a shard planned from (key, size and ETag of each): shards that
 * listed the same objects report the same digest, so the operator can tell when the input
 * changed between two shards' listings (an object added or deleted moves every boundary).
 */
export function listingDigest(objects: readonly ListedObject[]): string {
  const h = createHash("sha256");
  for (const o of objects) h.update(`${o.key}\t${o.size}\t${o.etag ?? ""}\n`);
  return h.digest("hex").slice(0, 16);
}

/** Shard `index` of `shards`' pieces of `objects` (already in key order), empty ones left out. */
export function planShard(
  objects: readonly ListedObject[],
  shards: number,
  index: number,
): InputPiece[] {
  const total = objects.reduce((n, o) => n + o.size, 0);
  const mine = shardRange(total, shards, index);
  const pieces: InputPiece[] = [];
  let base = 0;
  for (const object of objects) {
    const start = Math.max(mine.start, base) - base;
    const end = Math.min(mine.end, base + object.size) - base;
    if (start < end) pieces.push({ object, start, end });
    base += object.size;
  }
  return pieces;
}

/**
 * The rows of a Parquet object of `rows` rows that a byte piece owns: its bytes mapped
 * proportionally, so the pieces of one object (contiguous byte ranges from 0 to its size)
 * own contiguous row ranges from 0 to `rows`.
 */
export function pieceRows(piece: InputPiece, rows: number): Range {
  // In BigInt: bytes times rows can pass 2^53 for large objects.
  const at = (byte: number) => Number((BigInt(byte) * BigInt(rows)) / BigInt(piece.object.size));
  return { start: at(piece.start), end: at(piece.end) };
}
