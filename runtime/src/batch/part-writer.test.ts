import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { csvFileWriter, parquetFileWriter } from "./part-writer.js";

describe("batch file writers", () => {
  const dirs: string[] = [];
  const dir = () => {
    const d = mkdtempSync(join(tmpdir(), "part-writer-"));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const column = (data: string[]) => [{ name: "id", type: "STRING" as const, data }];

  it("publishes a CSV part only on commit", async () => {
    const d = dir();
    const w = await csvFileWriter(d, "part-0.csv", ["id"]);
    await w.write(column(["a", "b"]));
    expect(readdirSync(d)).not.toContain("part-0.csv");
    await w.commit();
    expect(readdirSync(d)).toEqual(["part-0.csv"]);
    expect(readFileSync(join(d, "part-0.csv"), "utf8")).toBe("id\na\nb\n");
  });

  // An input refused up front aborts the writers right after they were made, while the
  // stream is still opening with the header queued: that write then fails on a destroyed
  // stream, which crashed the process as an unhandled 'error' event, and the file could be
  // created again after its removal.
  it("aborts a CSV part still opening: nothing thrown, nothing left", async () => {
    for (let i = 0; i < 20; i++) {
      const d = dir();
      const w = await csvFileWriter(d, "rejects-0.csv", ["position", "id", "reason"]);
      await w.abort();
      await new Promise((r) => setTimeout(r, 5));
      expect(readdirSync(d)).toEqual([]);
    }
  });

  it("aborts a Parquet part: nothing left", async () => {
    const d = dir();
    const w = await parquetFileWriter(d, "part-0.parquet", [{ name: "id", type: "STRING" }]);
    await w.write(column(["a"]));
    await w.abort();
    expect(readdirSync(d)).toEqual([]);
  });
});
