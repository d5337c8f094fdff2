// A small RFC 4180 CSV reader (quoted fields, doubled quotes, CRLF), for feature-source files.

/** The delimiters data files commonly use, comma first (semicolons: European exports). */
export const COMMON_DELIMITERS: readonly string[] = [",", ";", "\t", "|"];

/** Parses CSV text into rows of fields; the first row is usually the header. */
export function parseCsv(text: string, delimiter = ","): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '"' && field === "") {
      // A quoted section continues the field; text after its closing quote is appended as is.
      i = readQuoted(text, i + 1);
      field = quotedValue;
      continue;
    }
    if (c === delimiter) {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      row.push(field);
      field = "";
      pushRow(rows, row);
      row = [];
      i += lineBreakLength(text, i);
      continue;
    } else {
      field += c;
    }
    i++;
  }
  // The last line may end without a line break.
  if (field !== "" || row.length > 0) rows.push([...row, field]);
  return rows;
}

/** The value of the quoted section readQuoted last read (a module slot: no object per field). */
let quotedValue = "";

/**
 * Reads a quoted section whose opening quote is just before `start` (doubled quotes are one
 * quote) into quotedValue; returns the index after its closing quote.
 */
function readQuoted(text: string, start: number): number {
  let value = "";
  let i = start;
  for (;;) {
    const q = text.indexOf('"', i);
    if (q < 0) throw new Error("CSV ends inside a quoted field");
    value += text.slice(i, q);
    if (text[q + 1] !== '"') {
      quotedValue = value;
      return q + 1;
    }
    value += '"';
    i = q + 2;
  }
}

/** Adds a finished row; a line with nothing on it (a lone empty field) is skipped. */
function pushRow(rows: string[][], row: string[]): void {
  if (!(row.length === 1 && row[0] === "")) rows.push(row);
}

/** 2 for a CRLF at i, else 1 (a lone CR or LF). */
function lineBreakLength(text: string, i: number): number {
  return text[i] === "\r" && text[i + 1] === "\n" ? 2 : 1;
}
