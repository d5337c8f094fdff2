// One CSV record as a row the model's validator and scorer take: cells are text, so numbers and
// booleans are converted per the schema's feature types and empty cells are missing (null).
import { type ModelCard, rawFeatureSpecs } from "../artifact/model-card.js";

/** One cell as the schema's type says: null when empty, numbers and booleans parsed. */
export function typedCell(cell: string, type: string | undefined): unknown {
  if (cell === "") return null;
  if (type === "boolean" && /^(true|false)$/i.test(cell)) return cell.toLowerCase() === "true";
  if (type === "numeric" || type === "integer" || type === "boolean") {
    const n = Number(cell);
    // Leave unparseable text as text: validation then names the field.
    return Number.isNaN(n) ? cell : n;
  }
  return cell;
}

/** A function turning one record's cells (in `header` order) into a typed row. */
export function csvRecordTyper(
  card: ModelCard,
  header: readonly string[],
): (cells: readonly string[]) => Record<string, unknown> {
  const types = new Map<string, string>(rawFeatureSpecs(card).map((s) => [s.name, s.type]));
  const columnTypes = header.map((name) => types.get(name));
  return (cells) => {
    const record: Record<string, unknown> = {};
    for (let i = 0; i < header.length; i++) {
      record[header[i] as string] = typedCell(cells[i] ?? "", columnTypes[i]);
    }
    return record;
  };
}
