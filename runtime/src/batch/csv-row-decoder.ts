// Turns a shard's CSV records into rows of a SourceBatch: each cell the model reads (and the id)
// is typed straight from the decoded text (typedText: numbers without a substring), the others
// are only counted, and each row is built by one object literal with the model's fields in a
// fixed order (one hidden class for every row, no property-by-property growth).
import type { ModelCard } from "../artifact/model-card.js";
import { codeGenerationAllowed } from "../code-generation.js";
import { columnTypes, numberTypes, typedText } from "../data/csv-record.js";
import type { RecordVisitor } from "./csv-shard-reader.js";
import type { BatchCutter } from "./source-batch.js";

/** How many distinct values a text column's cells are matched against. */
const SEEN = 16;

type RowMaker = (values: readonly unknown[]) => Record<string, unknown>;

/**
 * A function building a row with `keys` (in this order) from values[slots[k]]. Generated as an
 * object literal: V8 then allocates every row at its final shape. A `"__proto__"` key in a
 * literal does what `row["__proto__"] = v` does in csvRecordTyper (sets no own property).
 * Without code generation from strings (`generate` false) the row is built by those
 * assignments, in the same order: the same keys, values and prototype.
 */
export function rowMaker(
  keys: readonly string[],
  slots: readonly number[],
  generate = codeGenerationAllowed,
): RowMaker {
  if (!generate) {
    return (v) => {
      const row: Record<string, unknown> = {};
      for (let k = 0; k < keys.length; k++) row[keys[k] as string] = v[slots[k] as number];
      return row;
    };
  }
  const body = keys.map((k, i) => `${JSON.stringify(k)}: v[${slots[i]}]`).join(", ");
  return new Function("v", `return { ${body} };`) as RowMaker;
}

/** What a decoder reads: one file's header, the model's fields and id column, where rows go. */
export interface DecoderSetup {
  card: ModelCard;
  header: readonly string[];
  fields: readonly string[];
  idColumn: string;
  delimiter: string;
  /** How positions start: `byte ` or `<object> byte `. */
  unit: string;
  out: BatchCutter;
}

/** A RecordVisitor adding one file's records to batches. */
export class CsvRowDecoder implements RecordVisitor {
  private readonly out: BatchCutter;
  private readonly unit: string;
  private readonly width: number;
  /** The delimiter's char code. */
  private readonly delimiter: number;
  /** Per header column: the slot of values its typed cell goes to, or -1 (not read). */
  private readonly slots: Int32Array;
  /** Per header column: its feature type. */
  private readonly types: (string | undefined)[];
  /** One record's typed cells, reused from record to record. */
  private readonly values: unknown[];
  private readonly idSlot: number;
  /**
   * Per text column the values seen so far (at most SEEN): a repeated category is matched in
   * place and shared instead of a new string per cell. Undefined for numbers, the id, and a
   * column found to have more distinct values.
   */
  private readonly seen: (string[] | undefined)[];
  private readonly make: RowMaker;

  constructor(setup: DecoderSetup) {
    const { header, fields, idColumn } = setup;
    // A name repeated in the header takes its last cell, as a record built cell by cell did.
    const column = new Map(header.map((name, j) => [name, j]));
    const present = fields.filter((f) => column.has(f));
    const read = [...new Set([...present, ...(column.has(idColumn) ? [idColumn] : [])])];
    const slotOf = new Map(read.map((name, k) => [name, k]));
    this.width = header.length;
    this.delimiter = setup.delimiter.charCodeAt(0);
    this.unit = setup.unit;
    this.out = setup.out;
    this.slots = Int32Array.from(header, (name, j) =>
      column.get(name) === j ? (slotOf.get(name) ?? -1) : -1,
    );
    this.types = columnTypes(setup.card, header);
    this.seen = header.map((name, j) =>
      this.slots[j] !== -1 && name !== idColumn && !numberTypes.has(this.types[j]) ? [] : undefined,
    );
    this.values = new Array(read.length).fill(null);
    this.idSlot = slotOf.get(idColumn) ?? -1;
    this.make = rowMaker(
      present,
      present.map((f) => slotOf.get(f) as number),
    );
  }

  plain(text: string, start: number, end: number, offset: number): void {
    const { slots, values, delimiter, width } = this;
    let cells = 0;
    for (let p = start; ; cells++) {
      // A char loop: cheaper than an indexOf call per cell for cells this short.
      let q = p;
      while (q < end && text.charCodeAt(q) !== delimiter) q++;
      const slot = cells < width ? (slots[cells] as number) : -1;
      if (slot >= 0) values[slot] = this.cell(cells, text, p, q);
      if (q === end) break;
      p = q + 1;
    }
    this.finishRecord(cells + 1, offset);
  }

  /** The typed value of text[start, end) in header column j. */
  private cell(j: number, text: string, start: number, end: number): unknown {
    const seen = this.seen[j];
    if (seen === undefined || start === end) return typedText(text, start, end, this.types[j]);
    const length = end - start;
    for (const s of seen) if (s.length === length && text.startsWith(s, start)) return s;
    const value = text.slice(start, end);
    const typed = typedText(text, start, end, this.types[j]);
    // Only a value read as written is shared (" Spain " reads as "Spain", " " as missing).
    if (typed !== value) return typed;
    if (seen.length < SEEN) seen.push(value);
    else this.seen[j] = undefined;
    return value;
  }

  cells(cells: string[], offset: number): void {
    if (cells.length === this.width) {
      cells.forEach((cell, j) => {
        const slot = this.slots[j] as number;
        if (slot >= 0) this.values[slot] = this.cell(j, cell, 0, cell.length);
      });
    }
    this.finishRecord(cells.length, offset);
  }

  private finishRecord(cells: number, offset: number): void {
    if (cells !== this.width) {
      this.out.pushProblem(`has ${cells} cells, the header ${this.width}`, this.unit, offset);
      return;
    }
    const id = this.idSlot >= 0 ? (this.values[this.idSlot] ?? null) : null;
    this.out.push(this.make(this.values), id, this.unit, offset);
  }
}
