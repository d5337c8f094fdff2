import { describe, expect, it } from "vitest";
import { parseCsv } from "./csv-reader.js";

describe("parseCsv", () => {
  it("handles quotes, doubled quotes, embedded commas and newlines, CRLF and a BOM", () => {
    const text = '\ufeffid,name,note\r\n1,"Smith, J","said ""hi""\nthen left"\r\n2,Ann,\n';
    expect(parseCsv(text)).toEqual([
      ["id", "name", "note"],
      ["1", "Smith, J", 'said "hi"\nthen left'],
      ["2", "Ann", ""],
    ]);
  });
  it("keeps a last line without a newline and skips blank lines", () => {
    expect(parseCsv("a,b\n\n1,2")).toEqual([
      ["a", "b"],
      ["1", "2"],
    ]);
  });
  it("rejects an unterminated quote", () => {
    expect(() => parseCsv('a\n"open')).toThrow(/quoted/);
  });
});
