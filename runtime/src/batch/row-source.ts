// The rows a shard scores, read in batches of at most `batchRows`: a CSV shard streams its byte
// range, a Parquet shard reads its row range a batch at a time (hyparquet fetches only the row
// groups a batch overlaps). Memory is bounded by the batch, never by the input.
import {
  type AsyncBuffer,
  asyncBufferFromFile,
  asyncBufferFromUrl,
  parquetMetadataAsync,
  parquetReadObjects,
} from "hyparquet";
import type { ModelCard } from "../artifact/model-card.js";
import { columnTypes, typedCell } from "../data/csv-record.js";
import { InputError, openByteSource, s3Source, unchangedSince } from "./byte-source.js";
import { CsvRowDecoder } from "./csv-row-decoder.js";
import { csvShardRecords, readCsvHeader } from "./csv-shard-reader.js";
import { checkInputColumns } from "./input-columns.js";
import {
  dataObjects,
  type ListedObject,
  listingDigest,
  pieceRows,
  planShard,
} from "./input-plan.js";
import {
  isS3Location,
  isS3Prefix,
  parseS3Location,
  S3ObjectStore,
  s3AccessFromEnv,
} from "./s3-object-store.js";
import { type Range, shardRange } from "./shard-range.js";
import { BatchCutter, SourceBatch } from "./source-batch.js";

/** What a shard reads. */
export interface ShardInput {
  location: string;
  format: "csv" | "parquet";
  delimiter: string;
  shards: number;
  index: number;
  batchRows: number;
  /** The model's fields (rows are projected onto those the input has). */
  fields: readonly string[];
  idColumn: string;
}

/**
 * Parquet values as the validator takes them: INT64 as numbers, dates as ISO text, a float NaN
 * as missing (how Spark and numpy write a missing number; the trainer reads NaN as missing).
 */
function plainValue(v: unknown): unknown {
  if (typeof v === "bigint") return Number(v);
  if (Number.isNaN(v)) return null;
  if (v instanceof Date) return v.toISOString();
  return v;
}

/**
 * What one shard reads of one file or object: the bytes `range` of a prefix's object (rows, for
 * Parquet, by pieceRows), or without a range the shard's share of a whole file (shardRange).
 */
interface Piece {
  location: string;
  range?: Range;
  /** From a prefix's listing: its size and ETag, checked on every read. */
  listed?: ListedObject;
  /** Positions name the object (several are read). */
  named: boolean;
}

/** The rows of CSV pieces, batch by batch (a batch may span pieces). */
async function* csvBatches(
  input: ShardInput,
  card: ModelCard,
  pieces: readonly Piece[],
): AsyncGenerator<SourceBatch> {
  const out = new BatchCutter(input.batchRows);
  for (const piece of pieces) {
    const src = piece.listed
      ? await s3Source(piece.location, piece.listed)
      : await openByteSource(piece.location);
    const header = await readCsvHeader(src, input.delimiter);
    checkInputColumns(header, card, input.idColumn, piece.location, input.delimiter);
    const unit = `${piece.named ? `${piece.location} ` : ""}byte `;
    const decoder = new CsvRowDecoder({ ...input, card, header, unit, out });
    const range = piece.range ?? shardRange(src.size, input.shards, input.index);
    for await (const _ of csvShardRecords(src, range, input.delimiter, decoder)) {
      yield* out.take();
    }
  }
  yield* out.take(true);
}

const TEXT_TYPES: ReadonlySet<string | undefined> = new Set(["categorical", "ordinal"]);

/**
 * A Parquet row projected onto the model's fields, as the CSV decoder builds it: a text value
 * is read as a CSV cell of its column's type (the trainer reads Parquet text so too), so a
 * " Yes " in a text column of a boolean feature is true, as in a CSV; an integer of an integer
 * column (`integers`) that a category reads is its decimal text, the trainer's `str()` of it.
 */
function projected(
  record: Record<string, unknown>,
  fields: readonly string[],
  types: readonly (string | undefined)[],
  integers: ReadonlySet<string>,
) {
  const row: Record<string, unknown> = {};
  fields.forEach((f, k) => {
    if (!(f in record)) return;
    const v = record[f];
    if (typeof v === "string") row[f] = typedCell(v, types[k]);
    else if (v !== null && integers.has(f) && TEXT_TYPES.has(types[k])) row[f] = String(v);
    else row[f] = plainValue(v);
  });
  return row;
}

/** A Parquet file's bytes, fetched range by range: only the footer and the row groups read. */
async function parquetBuffer(location: string, listed?: ListedObject): Promise<AsyncBuffer> {
  if (isS3Location(location)) {
    const store = new S3ObjectStore(s3AccessFromEnv(process.env));
    const loc = parseS3Location(location);
    const byteLength = listed ? listed.size : await store.size(loc);
    return {
      byteLength,
      slice: async (start, end) => {
        const res = await store.get(loc, start, end ?? byteLength);
        if (listed) unchangedSince(location, listed, res);
        return res.arrayBuffer();
      },
    };
  }
  if (/^https?:\/\//.test(location)) return asyncBufferFromUrl({ url: location });
  return asyncBufferFromFile(location).catch((err: Error) => {
    throw new InputError(`cannot read ${location}: ${err.message}`);
  });
}

/** The rows of Parquet pieces: a whole file's by shardRange, a prefix's object's by pieceRows. */
async function* parquetBatches(
  input: ShardInput,
  card: ModelCard,
  pieces: readonly Piece[],
): AsyncGenerator<SourceBatch> {
  const types = columnTypes(card, input.fields);
  for (const piece of pieces) {
    const file = await parquetBuffer(piece.location, piece.listed);
    const metadata = await parquetMetadataAsync(file);
    // The schema's elements after the root: the column names of a flat file.
    const columns = metadata.schema.slice(1);
    checkInputColumns(
      columns.map((e) => e.name),
      card,
      input.idColumn,
      piece.location,
    );
    const integers = new Set(
      columns
        .filter(
          (e) =>
            (e.type === "INT32" || e.type === "INT64") &&
            (e.converted_type === undefined || /^U?INT_/.test(e.converted_type)),
        )
        .map((e) => e.name),
    );
    const rows = Number(metadata.num_rows);
    const { start, end } =
      piece.listed && piece.range
        ? pieceRows({ object: piece.listed, ...piece.range }, rows)
        : shardRange(rows, input.shards, input.index);
    const unit = `${piece.named ? `${piece.location} ` : ""}row `;
    for (let from = start; from < end; from += input.batchRows) {
      const to = Math.min(end, from + input.batchRows);
      const got = await parquetReadObjects({ file, metadata, rowStart: from, rowEnd: to });
      const batch = new SourceBatch();
      got.forEach((r, i) => {
        const id = r[input.idColumn];
        batch.push(
          projected(r, input.fields, types, integers),
          id === undefined ? null : plainValue(id),
          unit,
          from + i,
        );
      });
      yield batch;
    }
  }
}

/**
 * The pieces of every object under an S3 prefix this shard reads, and their format: Parquet
 * when every object's key ends in .parquet, else the one given (CSV by default). Each shard
 * lists the prefix itself; see docs/batch-scoring.md for why and what guards a changing input.
 */
async function prefixPieces(
  input: ShardInput,
): Promise<{ format: "csv" | "parquet"; pieces: Piece[]; listing: string }> {
  const store = new S3ObjectStore(s3AccessFromEnv(process.env));
  const prefix = parseS3Location(input.location);
  const objects = dataObjects(await store.list(prefix));
  if (objects.length === 0) {
    throw new InputError(`${input.location}: no objects under the prefix`);
  }
  const parquet = objects.filter((o) => /\.parquet$/i.test(o.key)).length;
  if (parquet > 0 && parquet < objects.length) {
    throw new InputError(
      `${input.location}: ${parquet} of ${objects.length} objects are .parquet: a prefix must hold one format`,
    );
  }
  const pieces = planShard(objects, input.shards, input.index).map((p) => ({
    location: `s3://${prefix.bucket}/${p.object.key}`,
    range: { start: p.start, end: p.end },
    listed: p.object,
    named: true,
  }));
  return {
    format: parquet > 0 ? "parquet" : input.format,
    pieces,
    listing: listingDigest(objects),
  };
}

async function* prefixBatches(
  input: ShardInput,
  card: ModelCard,
  onListing: (digest: string) => void,
): AsyncGenerator<SourceBatch> {
  const { format, pieces, listing } = await prefixPieces(input);
  onListing(listing);
  yield* format === "parquet"
    ? parquetBatches(input, card, pieces)
    : csvBatches(input, card, pieces);
}

/** The shard's rows, batch by batch; `onListing` gets a prefix's listing digest. */
export function shardBatches(
  input: ShardInput,
  card: ModelCard,
  onListing: (digest: string) => void = () => {},
): AsyncGenerator<SourceBatch> {
  if (isS3Prefix(input.location)) return prefixBatches(input, card, onListing);
  const whole = [{ location: input.location, named: false }];
  return input.format === "parquet"
    ? parquetBatches(input, card, whole)
    : csvBatches(input, card, whole);
}
