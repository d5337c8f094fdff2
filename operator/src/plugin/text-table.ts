import { visible } from "./palette.js";

/**
 * Rows as left-aligned columns two spaces apart, each line prefixed by `indent`; widths are
 * measured without colour codes, and trailing spaces are trimmed.
 */
export function textTable(rows: readonly (readonly string[])[], indent = ""): string[] {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, visible(cell).length);
    });
  return rows.map((row) =>
    (
      indent +
      row
        .map((cell, i) =>
          i === row.length - 1
            ? cell
            : cell + " ".repeat((widths[i] ?? 0) - visible(cell).length + 2),
        )
        .join("")
    ).trimEnd(),
  );
}
