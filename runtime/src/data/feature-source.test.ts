import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { trainedArtifact } from "../../test-support/trained-artifact.js";
import { parseModelCard } from "../artifact/model-card.js";
import { FeatureSource, FeatureSourceError } from "./feature-source.js";

const fixture = trainedArtifact();
const card = parseModelCard(JSON.parse(readFileSync(join(fixture.modelDir, "model.json"), "utf8")));
const dir = mkdtempSync(join(tmpdir(), "features-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe("FeatureSource", () => {
  it("loads the trainer's CSV with values typed by the schema", async () => {
    const src = await FeatureSource.load(fixture.dataCsv, card);
    const [header, first] = readFileSync(fixture.dataCsv, "utf8").split(/\r?\n/);
    const cols = (header as string).split(",");
    const id = (first as string).split(",")[cols.indexOf(card.schema.idColumn as string)] as string;
    const row = src.get(id) as Record<string, unknown>;
    expect(Object.keys(row).sort()).toEqual([...card.features.raw].sort());
    for (const spec of card.schema.features) {
      const v = row[spec.name];
      if (v === null) continue;
      expect(typeof v).toBe(
        spec.type === "categorical" || spec.type === "ordinal" ? "string" : "number",
      );
    }
    expect(src.get("no-such-id")).toBeUndefined();
  });

  it("reads JSON lines and CSV booleans written as words", async () => {
    const boolean = card.schema.features.find((f) => f.type === "boolean")?.name as string;
    const id = card.schema.idColumn as string;
    const jsonl = await FeatureSource.load(
      file(
        "c.jsonl",
        `${JSON.stringify({ [id]: 7, [boolean]: 1 })}\n\n${JSON.stringify({ [id]: "x8" })}\n`,
      ),
      card,
    );
    expect(jsonl.size).toBe(2);
    expect(jsonl.get("7")).toEqual({ [boolean]: 1 });
    const csv = await FeatureSource.load(file("c.csv", `${id},${boolean}\n9,True\n10,\n`), card);
    expect(csv.get("9")).toEqual({ [boolean]: true });
    expect(csv.get("10")).toEqual({ [boolean]: null });
    expect([...csv.values()]).toEqual([{ [boolean]: true }, { [boolean]: null }]);
  });

  it("reads a semicolon or tab file (European and spreadsheet exports) by its id column", async () => {
    const id = card.schema.idColumn as string;
    const boolean = card.schema.features.find((f) => f.type === "boolean")?.name as string;
    for (const d of [";", "\t"]) {
      const text = `\ufeff${id}${d}${boolean}${d}note\r\n00123${d} yes ${d}"a${d}b"\r\n123${d}N${d}\r\n`;
      const src = await FeatureSource.load(file(`d${d === ";" ? "semi" : "tab"}.csv`, text), card);
      expect(src.get("00123")).toEqual({ [boolean]: true });
      expect(src.get("123")).toEqual({ [boolean]: false });
    }
    // no delimiter gives a header holding the id column: named with the header
    await expect(FeatureSource.load(file("other.csv", "a;b\n1;2\n"), card)).rejects.toThrow(
      new RegExp(`header has no column ${id}`),
    );
  });

  it("names the problem in a bad file", async () => {
    const id = card.schema.idColumn as string;
    await expect(FeatureSource.load(file("bad.jsonl", "{not json}\n"), card)).rejects.toThrow(
      /bad.jsonl line 1 is not JSON/,
    );
    await expect(FeatureSource.load(file("noid.csv", `${id},x\n,1\n`), card)).rejects.toThrow(
      new RegExp(`record 1 has no ${id}`),
    );
    await expect(FeatureSource.load(file("ragged.csv", `${id},x\n1\n`), card)).rejects.toThrow(
      /row 2 has 1 cells, the header 2/,
    );
    // the trainer refuses duplicate ids too; which row would a lookup answer with?
    await expect(
      FeatureSource.load(file("twice.csv", `${id},x\n00123,1\n123,2\n00123,3\n`), card),
    ).rejects.toThrow(/twice.csv lists customer "00123" twice: records 1 and 3/);
    await expect(FeatureSource.load(join(dir, "missing.csv"), card)).rejects.toThrow(
      FeatureSourceError,
    );
  });
});
