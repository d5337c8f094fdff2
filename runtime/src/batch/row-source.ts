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
import { csvRecordTyper } from "../data/csv-record.js";
import { InputError, openByteSource } from "./byte-source.js";
import { csvShardRecords, readCsvHeader } from "./csv-shard-reader.js";
import {
  isS3Location,
  parseS3Location,
  S3ObjectStore,
  s3AccessFromEnv,
} from "./s3-object-store.js";
import { shardRange } from "./shard-range.js";

/** One input row and where it is in the file (for the rejects file). */
export interface SourceRow {
  row: Record<string, unknown>;
  /** Where it starts: `byte N` (CSV) or `row N` (Parquet). */
  position: string;
  /** Set when the record cannot even be a row (a CSV line with the wrong number of cells). */
  problem?: string;
}

/** What a shard reads. */
export interface ShardInput {
  location: string;
  format: "csv" | "parquet";
  delimiter: string;
  shards: number;
  index: number;
  batchRows: number;
}

/** Parquet values as the validator takes them: INT64 as numbers, dates as ISO text. */
function plainValue(v: unknown): unknown {
  if (typeof v === "bigint") return Number(v);
  if (v instanceof Date) return v.toISOString();
  return v;
}

async function* csvBatches(input: ShardInput, card: ModelCard): AsyncGenerator<SourceRow[]> {
  const src = await openByteSource(input.location);
  const header = await readCsvHeader(src, input.delimiter);
  const typed = csvRecordTyper(card, header);
  const range = shardRange(src.size, input.shards, input.index);
  let batch: SourceRow[] = [];
  for await (const record of csvShardRecords(src, range, input.delimiter)) {
    const position = `byte ${record.offset}`;
    if (record.cells.length !== header.length) {
      const problem = `has ${record.cells.length} cells, the header ${header.length}`;
      batch.push({ row: {}, position, problem });
    } else batch.push({ row: typed(record.cells), position });
    if (batch.length >= input.batchRows) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** A Parquet file's bytes, fetched range by range: only the footer and the row groups read. */
async function parquetBuffer(location: string): Promise<AsyncBuffer> {
  if (isS3Location(location)) {
    const store = new S3ObjectStore(s3AccessFromEnv(process.env));
    const loc = parseS3Location(location);
    const byteLength = await store.size(loc);
    return {
      byteLength,
      slice: async (start, end) => (await store.get(loc, start, end ?? byteLength)).arrayBuffer(),
    };
  }
  if (/^https?:\/\//.test(location)) return asyncBufferFromUrl({ url: location });
  return asyncBufferFromFile(location).catch((err: Error) => {
    throw new InputError(`cannot read ${location}: ${err.message}`);
  });
}

async function* parquetBatches(input: ShardInput): AsyncGenerator<SourceRow[]> {
  const file = await parquetBuffer(input.location);
  const metadata = await parquetMetadataAsync(file);
  const { start, end } = shardRange(Number(metadata.num_rows), input.shards, input.index);
  for (let from = start; from < end; from += input.batchRows) {
    const to = Math.min(end, from + input.batchRows);
    const rows = await parquetReadObjects({ file, metadata, rowStart: from, rowEnd: to });
    yield rows.map((r, i) => {
      const row: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(r)) row[k] = plainValue(v);
      return { row, position: `row ${from + i}` };
    });
  }
}

/** The shard's rows, batch by batch. */
export function shardBatches(input: ShardInput, card: ModelCard): AsyncGenerator<SourceRow[]> {
  return input.format === "parquet" ? parquetBatches(input) : csvBatches(input, card);
}
