// The batch decoder gives the rows the cell-by-cell typer (csvRecordTyper, what feature files
// and the online fixtures use) gives, projected onto the model's fields, for plain and quoted
// records alike: what keeps a customer's offline probability equal to its online one.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { trainedArtifact } from "../../test-support/trained-artifact.js";
import { loadArtifact } from "../artifact/artifact.js";
import { parseCsv } from "../data/csv-reader.js";
import { csvRecordTyper } from "../data/csv-record.js";
import { instanceShape } from "../validation/request-rules.js";
import { CsvRowDecoder, rowMaker } from "./csv-row-decoder.js";
import { BatchCutter } from "./source-batch.js";

const fixture = trainedArtifact();

describe("CsvRowDecoder", () => {
  it("types and projects every record as the cell-by-cell typer does", async () => {
    const { card } = await loadArtifact(fixture.modelDir);
    const lines = readFileSync(fixture.dataCsv, "utf8").trim().split(/\r?\n/);
    const header = parseCsv(lines[0] as string)[0] as string[];
    const fields = instanceShape(card).fields.map((f) => f.name);
    const idColumn = "CustomerId";
    // Odd cells too: empty, text in a number column, a category never seen, more cells.
    const odd = lines.slice(1, 40).map((line, i) => {
      const cells = line.split(",");
      cells[(i * 7) % cells.length] = ["", "abc", "1e3", "-0", "Atlantis", "5."][i % 6] as string;
      return i % 9 === 0 ? `${cells.join(",")},extra` : cells.join(",");
    });
    const records = [...lines.slice(1), ...odd];
    const out = new BatchCutter(1_000_000);
    const setup = { card, header, fields, idColumn, delimiter: ",", unit: "byte ", out };
    const decoder = new CsvRowDecoder(setup);
    records.forEach((line, i) => {
      decoder.plain(line, 0, line.length, i);
      decoder.cells(parseCsv(line)[0] as string[], i);
    });
    const [batch] = out.take(true);
    const typed = csvRecordTyper(card, header);
    records.forEach((line, i) => {
      const cells = parseCsv(line)[0] as string[];
      for (const k of [2 * i, 2 * i + 1]) {
        if (cells.length !== header.length) {
          expect(batch?.problems.get(k)).toBe(
            `has ${cells.length} cells, the header ${header.length}`,
          );
          continue;
        }
        const all = typed(cells);
        const row = Object.fromEntries(fields.filter((f) => f in all).map((f) => [f, all[f]]));
        expect(batch?.rows[k]).toStrictEqual(row);
        expect(Object.keys(batch?.rows[k] ?? {})).toEqual(Object.keys(row));
        expect(batch?.ids[k]).toBe(all[idColumn] ?? null);
        expect(batch?.position(k)).toBe(`byte ${i}`);
      }
    });
  });
});

describe("rowMaker", () => {
  it("builds the same rows without code generation as with it", () => {
    // Integer-like keys (ordered first by both), a key repeated, and "__proto__" (a prototype
    // for null, nothing for a string or number): what a header could hold.
    const keys = ["b", "2", "__proto__", "a", "1", "constructor", "b"];
    const slots = [0, 1, 2, 3, 4, 5, 6];
    const generated = rowMaker(keys, slots, true);
    const walked = rowMaker(keys, slots, false);
    const rows: unknown[][] = [
      ["x", 1, "text", null, -0, "c", "last"],
      [null, Number.NaN, null, true, 2.5, undefined, 0],
      ["x", 1, 42, "a", "1", null, ""],
    ];
    for (const values of rows) {
      const a = generated(values);
      const b = walked(values);
      expect(Object.getPrototypeOf(b)).toBe(Object.getPrototypeOf(a));
      expect(Object.keys(b)).toEqual(Object.keys(a));
      expect(Object.getOwnPropertyNames(b)).toEqual(Object.getOwnPropertyNames(a));
      for (const k of Object.keys(a)) expect(Object.is(b[k], a[k]), k).toBe(true);
    }
  });
});
