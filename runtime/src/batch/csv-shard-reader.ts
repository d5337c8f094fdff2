// Streams the CSV records a shard owns. A shard owns the records that start inside its byte
// range (the split Hadoop and Spark use for text): it starts one byte early, drops the partial
// line, and reads on past its end to finish its last record, so shards partition the file
// without knowing its row count. A quoted field spanning lines is joined back into one record;
// with more than one shard such a field must not straddle a shard boundary (as Spark's
// non-multiLine CSV), which a single-line export never does.
import { parseCsv } from "../data/csv-reader.js";
import type { ByteSource } from "./byte-source.js";
import type { Range } from "./shard-range.js";

/** One line of the file and the byte offset it starts at. */
export interface Line {
  offset: number;
  text: string;
}

/** Splits a byte stream into lines (LF or CRLF), each with its starting offset. */
export async function* lines(
  chunks: AsyncIterable<Uint8Array>,
  base: number,
): AsyncGenerator<Line> {
  let pending: Buffer[] = [];
  let pendingStart = base;
  let position = base;
  for await (const raw of chunks) {
    const chunk = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    let from = 0;
    for (let nl = chunk.indexOf(10, from); nl !== -1; nl = chunk.indexOf(10, from)) {
      pending.push(chunk.subarray(from, nl));
      const bytes = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending);
      yield { offset: pendingStart, text: stripCr(bytes.toString("utf8")) };
      pending = [];
      pendingStart = position + nl + 1;
      from = nl + 1;
    }
    if (from < chunk.length) pending.push(chunk.subarray(from));
    position += chunk.length;
  }
  if (pending.length > 0) {
    yield { offset: pendingStart, text: stripCr(Buffer.concat(pending).toString("utf8")) };
  }
}

const stripCr = (s: string) => (s.endsWith("\r") ? s.slice(0, -1) : s);
const quotes = (s: string) => {
  let n = 0;
  for (let i = s.indexOf('"'); i !== -1; i = s.indexOf('"', i + 1)) n++;
  return n;
};

/** One record: its cells and where it starts in the file. */
export interface CsvRecord {
  offset: number;
  cells: string[];
}

/** The header row (the file's first record). */
export async function readCsvHeader(src: ByteSource, delimiter: string): Promise<string[]> {
  for await (const line of lines(src.open(0), 0)) {
    const header = parseCsv(line.text.replace(/^\ufeff/, ""), delimiter)[0];
    if (header?.length) return header;
    break;
  }
  throw new Error(`${src.name} has no header row`);
}

/**
 * The lines a shard reads: from 0 the header is dropped; from start-1 the first line is the
 * end of the previous shard's record (or the empty rest of the newline at start-1).
 */
async function* shardLines(src: ByteSource, range: Range): AsyncGenerator<Line> {
  const from = range.start === 0 ? 0 : range.start - 1;
  let first = true;
  for await (const line of lines(src.open(from), from)) {
    if (!first) yield line;
    first = false;
  }
}

/** The records starting in `range` (the header excluded), in file order. */
export async function* csvShardRecords(
  src: ByteSource,
  range: Range,
  delimiter: string,
): AsyncGenerator<CsvRecord> {
  let record: Line | undefined;
  for await (const line of shardLines(src, range)) {
    if (record) {
      record = { offset: record.offset, text: `${record.text}\n${line.text}` };
    } else {
      if (line.offset >= range.end) return;
      if (line.text === "") continue;
      record = line;
    }
    if (quotes(record.text) % 2 === 1) continue;
    // Most records quote nothing: a split is exact for them and several times faster.
    const cells = record.text.includes('"')
      ? (parseCsv(record.text, delimiter)[0] ?? [])
      : record.text.split(delimiter);
    yield { offset: record.offset, cells };
    record = undefined;
  }
  if (record) throw new Error(`${src.name} ends inside a quoted field`);
}
