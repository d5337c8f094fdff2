/** One CSV line (RFC 4180 quoting where a field needs it), newline included. */
export function csvLine(fields: readonly unknown[]): string {
  return `${fields.map(csvField).join(",")}\n`;
}

function csvField(v: unknown): string {
  if (v === null || v === undefined) return "";
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}
