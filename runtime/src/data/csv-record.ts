// One CSV record as a row the model's validator and scorer take: cells are text, so numbers and
// booleans are converted per the schema's feature types and missing cells become null. The
// trainer reads its training file by the same rules (trainer/src/churn_trainer/data.py;
// csv-record.test.ts runs both on the same cells), so a file scores as it trained.
import { type ModelCard, rawFeatureSpecs } from "../artifact/model-card.js";

/** The feature types whose cells are parsed as numbers (booleans also from words). */
export const numberTypes: ReadonlySet<string | undefined> = new Set([
  "numeric",
  "integer",
  "boolean",
]);

/** Missing in a number or boolean cell; a category is missing only when empty ("NA" is a name). */
const MISSING = new Set(["", "NA", "NaN", "nan", "NULL", "null", "None", "none", "N/A", "n/a"]);
const TRUE_WORDS = new Set(["true", "yes", "y", "t"]);
const FALSE_WORDS = new Set(["false", "no", "n", "f"]);
/** The whitespace JavaScript's trim() and Python's str.strip() agree on (no BOM). */
const SPACE = "[ \\t\\n\\v\\f\\r\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
const EDGE_SPACE = new RegExp(`^${SPACE}+|${SPACE}+$`, "g");
/** Plain decimal notation: Number() alone would also read "0x1F", "0b101" and "Infinity". */
const DECIMAL = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

/** A stripped boolean cell: a yes/no word (any case) or a decimal 0 or 1; else `cell`, as text. */
function booleanCell(text: string, cell: string): unknown {
  const word = text.toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  const n = DECIMAL.test(text) ? Number(text) : Number.NaN;
  return n === 1 || n === 0 ? n : cell;
}

/**
 * One cell as the schema's type says. Numbers and booleans: stripped, a missing token is null,
 * a decimal is its number, a boolean also a yes/no word; other text stays text for validation
 * to name. Categories: stripped, empty is null. Cells of other columns (the id) are kept as
 * written, empty as null.
 */
export function typedCell(cell: string, type: string | undefined): unknown {
  if (cell === "") return null;
  if (type === undefined) return cell;
  const text = cell.replace(EDGE_SPACE, "");
  if (!numberTypes.has(type)) return text === "" ? null : text;
  if (MISSING.has(text)) return null;
  if (type === "boolean") return booleanCell(text, cell);
  return DECIMAL.test(text) ? Number(text) : cell;
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
  if (type === "numeric" || type === "integer") {
    const n = plainDecimal(text, start, end);
    if (n !== undefined) return n;
  }
  return typedCell(text.slice(start, end), type);
}
