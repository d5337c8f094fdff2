// An optional lookup of stored customer features (CSV or JSON lines, keyed by the schema's id
// column) behind GET /v1/customers/:id/score.
import { readFile } from "node:fs/promises";
import type { ModelCard } from "../artifact/model-card.js";
import { COMMON_DELIMITERS, parseCsv } from "./csv-reader.js";
import { csvRecordTyper } from "./csv-record.js";

/** Raised when the feature file cannot be used with this model. */
export class FeatureSourceError extends Error {
  override readonly name = "FeatureSourceError";
}

/** Customers' raw feature rows by id. */
export class FeatureSource {
  private constructor(
    private readonly rows: Map<string, Record<string, unknown>>,
    readonly path: string,
  ) {}

  /** Loads a .csv (header row) or .jsonl/.ndjson file; values are typed per the model's schema. */
  static async load(path: string, card: ModelCard): Promise<FeatureSource> {
    const idColumn = card.schema.idColumn;
    if (!idColumn) {
      throw new FeatureSourceError(
        "the model's schema has no idColumn, so customers cannot be looked up",
      );
    }
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      throw new FeatureSourceError(`cannot read feature file ${path}: ${(err as Error).message}`);
    }
    const records = /\.(jsonl|ndjson)$/i.test(path)
      ? parseJsonLines(text, path)
      : csvRecords(text, path, card, idColumn);
    const rows = new Map<string, Record<string, unknown>>();
    const wanted = [...card.features.raw];
    const seenAt = new Map<string, number>();
    for (const [i, record] of records.entries()) {
      const id = record[idColumn];
      if (id === undefined || id === null || id === "") {
        throw new FeatureSourceError(`${path} record ${i + 1} has no ${idColumn}`);
      }
      const key = String(id);
      const first = seenAt.get(key);
      if (first !== undefined) {
        throw new FeatureSourceError(
          `${path} lists customer ${JSON.stringify(key)} twice: records ${first} and ${i + 1}`,
        );
      }
      seenAt.set(key, i + 1);
      const row: Record<string, unknown> = {};
      for (const name of wanted) if (name in record) row[name] = record[name];
      rows.set(key, row);
    }
    return new FeatureSource(rows, path);
  }

  /** The customer's raw feature row, or undefined when unknown. */
  get(id: string): Record<string, unknown> | undefined {
    return this.rows.get(id);
  }

  get size(): number {
    return this.rows.size;
  }

  /** Every customer's row, in the order the file first names them. */
  values(): IterableIterator<Record<string, unknown>> {
    return this.rows.values();
  }
}

function parseJsonLines(text: string, path: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const [i, line] of text.split(/\r?\n/).entries()) {
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new FeatureSourceError(`${path} line ${i + 1} is not JSON: ${(err as Error).message}`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new FeatureSourceError(`${path} line ${i + 1} is not a JSON object`);
    }
    out.push(value as Record<string, unknown>);
  }
  return out;
}

/**
 * The file's delimiter: the first common one by which its header names the id column, so a
 * semicolon export (the trainer's `dataset.delimiter`) loads as it is.
 */
function delimiterOf(text: string, path: string, idColumn: string): string {
  const line = text.split(/\r?\n/, 1)[0] ?? "";
  const found = COMMON_DELIMITERS.find((d) => parseCsv(line, d)[0]?.includes(idColumn));
  if (found !== undefined) return found;
  throw new FeatureSourceError(
    `${path}: the header has no column ${idColumn} with , ; tab or | as the delimiter: ${JSON.stringify(line.slice(0, 80))}`,
  );
}

/** CSV cells are text: numbers and booleans are converted per the schema, empty cells are missing. */
function csvRecords(
  text: string,
  path: string,
  card: ModelCard,
  idColumn: string,
): Record<string, unknown>[] {
  if (text.trim() === "") throw new FeatureSourceError(`${path} is empty`);
  const [header, ...body] = parseCsv(text, delimiterOf(text, path, idColumn));
  if (!header) throw new FeatureSourceError(`${path} is empty`);
  const typed = csvRecordTyper(card, header);
  return body.map((cells, r) => {
    if (cells.length !== header.length) {
      throw new FeatureSourceError(
        `${path} row ${r + 2} has ${cells.length} cells, the header ${header.length}`,
      );
    }
    return typed(cells);
  });
}
