// Streams the CSV records a shard owns. A shard owns the records that start inside its byte
// range (the split Hadoop and Spark use for text): it starts one byte early, drops the partial
// line, and reads on past its end to finish its last record, so shards partition the file
// without knowing its row count. A quoted field spanning lines is joined back into one record;
// with more than one shard such a field must not straddle a shard boundary (as Spark's
// non-multiLine CSV), which a single-line export never does.
import { isAscii } from "node:buffer";
import { parseCsv } from "../data/csv-reader.js";
import { type ByteSource, InputError } from "./byte-source.js";
import type { Range } from "./shard-range.js";

const LF = 10;
const CR = 13;

const quotes = (s: string) => {
  let n = 0;
  for (let i = s.indexOf('"'); i !== -1; i = s.indexOf('"', i + 1)) n++;
  return n;
};

/** The header row (the file's first line, as UTF-8, without a BOM or CR). */
export async function readCsvHeader(src: ByteSource, delimiter: string): Promise<string[]> {
  const read: Buffer[] = [];
  for await (const raw of src.open(0)) {
    const chunk = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    const nl = chunk.indexOf(LF);
    read.push(nl === -1 ? chunk : chunk.subarray(0, nl));
    if (nl !== -1) break;
  }
  const line = Buffer.concat(read)
    .toString("utf8")
    .replace(/^\ufeff/, "")
    .replace(/\r$/, "");
  const header = parseCsv(line, delimiter)[0];
  if (header?.length) return header;
  throw new InputError(`${src.name} has no header row`);
}

/** What a shard's records are handed to, one call per record, in file order. */
export interface RecordVisitor {
  /** A record quoting nothing: its cells are text[start, end) split at the delimiter. */
  plain(text: string, start: number, end: number, offset: number): void;
  /** A record with quoted cells, parsed. */
  cells(cells: string[], offset: number): void;
}

/**
 * The records of one shard, handed to a visitor line by line: each chunk's complete lines are
 * decoded as one string (latin1 when the bytes are ASCII, the common case, else per line as
 * UTF-8) and records are cut by index, with no string or object per line.
 */
class ShardRecords {
  /** The first line read is the header (from 0) or the previous shard's last record. */
  private first = true;
  /** A record whose quoted field continues on the next line. */
  private open: { offset: number; text: string } | undefined;
  /** Set once a record starts at or past the range's end. */
  done = false;
  /** Where the next quote is in the current block (-1: none left). */
  private nextQuote = -1;

  constructor(
    private readonly end: number,
    private readonly delimiter: string,
    private readonly visit: RecordVisitor,
  ) {}

  /** Reads the complete lines of buf[0, length), buf[0] being at `base` in the file. */
  block(buf: Buffer, length: number, base: number): void {
    if (isAscii(buf.subarray(0, length))) {
      const text = buf.toString("latin1", 0, length);
      this.nextQuote = text.indexOf('"');
      for (let i = 0; i < length && !this.done; ) {
        const nl = text.indexOf("\n", i);
        const end = nl === -1 ? length : nl;
        this.line(text, i, end, base + i);
        i = end + 1;
      }
      return;
    }
    for (let i = 0; i < length && !this.done; ) {
      const nl = buf.indexOf(LF, i);
      const end = nl === -1 || nl >= length ? length : nl;
      const text = buf.toString("utf8", i, end);
      this.nextQuote = text.indexOf('"');
      this.line(text, 0, text.length, base + i);
      i = end + 1;
    }
  }

  /** One line, text[start, end) without its LF, starting at `offset` in the file. */
  private line(text: string, start: number, end: number, offset: number): void {
    const stop = end > start && text.charCodeAt(end - 1) === CR ? end - 1 : end;
    if (this.first) {
      this.first = false;
      return;
    }
    if (this.open) {
      this.continueQuoted(text.slice(start, stop));
      return;
    }
    if (offset >= this.end) {
      this.done = true;
      return;
    }
    if (start === stop) return;
    if (this.nextQuote !== -1 && this.nextQuote < start) this.nextQuote = text.indexOf('"', start);
    if (this.nextQuote === -1 || this.nextQuote >= stop) {
      this.visit.plain(text, start, stop, offset);
      return;
    }
    this.open = { offset, text: "" };
    this.continueQuoted(text.slice(start, stop), true);
  }

  /** Adds a line to the open quoted record; hands it over once its quotes balance. */
  private continueQuoted(line: string, first = false): void {
    const record = this.open as { offset: number; text: string };
    record.text = first ? line : `${record.text}\n${line}`;
    if (quotes(record.text) % 2 === 1) return;
    this.open = undefined;
    this.visit.cells(parseCsv(record.text, this.delimiter)[0] ?? [], record.offset);
  }

  /** Throws when the input ended inside a quoted field. */
  finish(name: string): void {
    if (this.open) throw new Error(`${name} ends inside a quoted field`);
  }
}

/**
 * Hands the records starting in `range` (the header excluded) to `visit`, in file order,
 * yielding after each chunk so the caller can pass on what the visitor gathered. It reads from
 * range.start-1 on: from 0 the first line is the header; else it is the end of the previous
 * shard's record (or the empty rest of the newline at start-1).
 */
export async function* csvShardRecords(
  src: ByteSource,
  range: Range,
  delimiter: string,
  visit: RecordVisitor,
): AsyncGenerator<void> {
  const from = range.start === 0 ? 0 : range.start - 1;
  const records = new ShardRecords(range.end, delimiter, visit);
  // The bytes after the last LF read so far, and where they start in the file.
  let rest: Buffer | undefined;
  let restStart = from;
  let position = from;
  for await (const raw of src.open(from)) {
    const chunk = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    const buf = rest ? Buffer.concat([rest, chunk]) : chunk;
    const base = rest ? restStart : position;
    position += chunk.length;
    const last = buf.lastIndexOf(LF);
    if (last === -1) {
      rest = buf;
      restStart = base;
      continue;
    }
    records.block(buf, last + 1, base);
    if (records.done) return;
    rest = last + 1 < buf.length ? buf.subarray(last + 1) : undefined;
    restStart = base + last + 1;
    yield;
  }
  if (rest) records.block(rest, rest.length, restStart);
  if (!records.done) records.finish(src.name);
}
