// One CSV record as a row the model's validator and scorer take: cells are text, so numbers and
// booleans are converted per the schema's feature types and empty cells are missing (null).
import { type ModelCard, rawFeatureSpecs } from "../artifact/model-card.js";

/** The feature types whose cells are parsed as numbers (booleans also from true/false). */
export const numberTypes: ReadonlySet<string | undefined> = new Set([
  "numeric",
  "integer",
  "boolean",
]);

/** One cell as the schema's type says: null when empty, numbers and booleans parsed. */
export function typedCell(cell: string, type: string | undefined): unknown {
  if (cell === "") return null;
  if (type === "boolean" && /^(true|false)$/i.test(cell)) return cell.toLowerCase() === "true";
  if (numberTypes.has(type)) {
    const n = Number(cell);
    // Leave unparseable text as text: validation then names the field.
    return Number.isNaN(n) ? cell : n;
  }
  return cell;
}

/** Each header column's feature type (undefined for a column the model does not read). */
export function columnTypes(card: ModelCard, header: readonly string[]): (string | undefined)[] {
  const types = new Map<string, string>(rawFeatureSpecs(card).map((s) => [s.name, s.type]));
  return header.map((name) => types.get(name));
}

/** A function turning one record's cells (in `header` order) into a typed row. */
export function csvRecordTyper(
  card: ModelCard,
  header: readonly string[],
): (cells: readonly string[]) => Record<string, unknown> {
  const types = columnTypes(card, header);
  return (cells) => {
    const record: Record<string, unknown> = {};
    for (let i = 0; i < header.length; i++) {
      record[header[i] as string] = typedCell(cells[i] ?? "", types[i]);
    }
    return record;
  };
}

const POW10 = Array.from({ length: 16 }, (_, k) => 10 ** k);

/**
 * text[start, end) as a plain decimal (`-?digits[.digits]`, at most 15 digits): the mantissa is
 * an exact integer and 10^k an exact power, so one division is the correctly rounded double
 * Number() gives (Clinger's fast path). Undefined for anything else: the caller falls back.
 */
function plainDecimal(text: string, start: number, end: number): number | undefined {
  const negative = text.charCodeAt(start) === 45;
  let mantissa = 0;
  let digits = 0;
  let point = -1;
  for (let i = negative ? start + 1 : start; i < end; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d >= 0 && d <= 9) {
      mantissa = mantissa * 10 + d;
      digits++;
    } else if (d === -2 && point < 0) point = digits;
    else return undefined;
  }
  if (digits === 0 || digits > 15) return undefined;
  const scale = point < 0 ? 0 : digits - point;
  const v = scale > 0 ? mantissa / (POW10[scale] as number) : mantissa;
  return negative ? -v : v;
}

/** typedCell(text.slice(start, end), type), without the slice for a plain number. */
export function typedText(
  text: string,
  start: number,
  end: number,
  type: string | undefined,
): unknown {
  if (start === end) return null;
  if (numberTypes.has(type)) {
    const n = plainDecimal(text, start, end);
    if (n !== undefined) return n;
  }
  return typedCell(text.slice(start, end), type);
}
