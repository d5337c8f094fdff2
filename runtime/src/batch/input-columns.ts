// An input that lacks a column every row needs is refused before any row is read: otherwise
// each row would be rejected, one by one, for the same reason (a file read with the wrong
// delimiter has one column, and every customer would land in the rejects file).
import { type ModelCard, rawFeatureSpecs } from "../artifact/model-card.js";
import { COMMON_DELIMITERS } from "../data/csv-reader.js";
import { InputError } from "./byte-source.js";

/**
 * Throws an InputError naming the model's non-nullable columns that `columns` (the input's
 * header or Parquet schema) lacks, and the id column if it lacks that (every score would have an
 * empty id); for a one-column CSV header, also the delimiter it holds.
 */
export function checkInputColumns(
  columns: readonly string[],
  card: ModelCard,
  idColumn: string,
  source: string,
  delimiter?: string,
): void {
  const have = new Set(columns);
  const missing = rawFeatureSpecs(card)
    .filter((f) => f.nullable !== true && !have.has(f.name))
    .map((f) => f.name);
  const problems = [
    ...(missing.length > 0 ? [`the model's column(s) ${missing.join(", ")}`] : []),
    ...(have.has(idColumn) ? [] : [`the id column ${idColumn} (--id-column names another)`]),
  ];
  if (problems.length === 0) return;
  const only = columns.length === 1 ? (columns[0] as string) : "";
  const other = COMMON_DELIMITERS.find((d) => d !== delimiter && only.includes(d));
  const hint =
    delimiter !== undefined && other !== undefined
      ? `; its header is one column, ${JSON.stringify(only.slice(0, 80))}: is the file delimited by ${JSON.stringify(other)} (--delimiter)?`
      : "";
  throw new InputError(`${source} lacks ${problems.join(" and ")}${hint}`);
}
