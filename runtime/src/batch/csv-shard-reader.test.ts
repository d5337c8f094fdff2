import { describe, expect, it } from "vitest";
import { type ByteSource, InputError } from "./byte-source.js";
import { csvShardRecords, readCsvHeader } from "./csv-shard-reader.js";
import { type Range, shardRange } from "./shard-range.js";

/** An in-memory file served in small chunks, so lines straddle chunk boundaries. */
function memorySource(text: string, chunk = 7): ByteSource {
  const bytes = Buffer.from(text, "utf8");
  return {
    name: "memory.csv",
    size: bytes.length,
    async *open(from) {
      for (let i = from; i < bytes.length; i += chunk) yield bytes.subarray(i, i + chunk);
    },
  };
}

/** The records a shard hands over, as cells (a plain record split as the decoder reads it). */
async function shardRecords(src: ByteSource, range: Range, delimiter: string) {
  const out: { offset: number; cells: string[] }[] = [];
  const visit = {
    plain: (text: string, start: number, end: number, offset: number) =>
      out.push({ offset, cells: text.slice(start, end).split(delimiter) }),
    cells: (cells: string[], offset: number) => out.push({ offset, cells }),
  };
  for await (const _ of csvShardRecords(src, range, delimiter, visit));
  return out;
}

const rows = Array.from({ length: 57 }, (_, i) => [
  String(i),
  i % 5 === 0 ? `"Smith, ${"x".repeat(i % 13)}"` : `name${"é".repeat(i % 4)}`,
  String(i * 1.5),
]);
const text = `\ufeffid,name,score\r\n${rows.map((r) => r.join(",")).join("\r\n")}\r\n`;

describe("CSV shards", () => {
  it.each([
    ["a BOM and CRLF, across chunks", "\ufeffid,naïve,score\r\n1,x,2\r\n", 3],
    ["no newline at all", "id,naïve,score", 2],
  ])("reads the header: %s", async (_name, file, chunk) => {
    expect(await readCsvHeader(memorySource(file, chunk), ",")).toEqual(["id", "naïve", "score"]);
  });

  it.each(["", "\r\nid,score\n"])("refuses a file whose first line is empty (%j)", async (file) => {
    await expect(readCsvHeader(memorySource(file), ",")).rejects.toThrow(/has no header row/);
    // an input error (the shard exits 2, not retried): the file will not change on a retry
    await expect(readCsvHeader(memorySource(file), ",")).rejects.toBeInstanceOf(InputError);
  });

  it.each([1, 2, 3, 4, 7, 20])(
    "gives every record to exactly one of %i shards, in order",
    async (shards) => {
      const src = memorySource(text);
      expect(await readCsvHeader(src, ",")).toEqual(["id", "name", "score"]);
      const all: string[] = [];
      for (let i = 0; i < shards; i++) {
        const records = await shardRecords(src, shardRange(src.size, shards, i), ",");
        all.push(...records.map((r) => r.cells[0] as string));
      }
      expect(all).toEqual(rows.map((r) => r[0]));
    },
  );

  it("joins a quoted field that spans lines into one record", async () => {
    const src = memorySource('id,note\n1,"two\nlines"\n2,plain\n');
    const records = await shardRecords(src, { start: 0, end: src.size }, ",");
    expect(records.map((r) => r.cells)).toEqual([
      ["1", "two\nlines"],
      ["2", "plain"],
    ]);
    expect(records[1]?.offset).toBe('id,note\n1,"two\nlines"\n'.length);
  });

  it("reads another delimiter", async () => {
    const src = memorySource("a;b\n1;x,y\n");
    const records = await shardRecords(src, { start: 0, end: src.size }, ";");
    expect(records.map((r) => r.cells)).toEqual([["1", "x,y"]]);
  });
});
