// `churn-runtime batch` end to end on the trainer's fixture: real onnxruntime, real files.
// Shards partition the customers, probabilities equal POST /v1/score's to the bit, a retried
// index replaces its part, bad rows land in the rejects file, and the limit fails the shard.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { asyncBufferFromFile, parquetReadObjects } from "hyparquet";
import { parquetWriteFile } from "hyparquet-writer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runShard as runShardIn } from "../../test-support/run-shard.js";
import { post, startTestServer } from "../../test-support/test-server.js";
import { trainedArtifact } from "../../test-support/trained-artifact.js";
import { parseCsv } from "../data/csv-reader.js";
import type { RunningServer } from "../http/server.js";
import type { BatchSettingName } from "./batch-config.js";
import { BatchExit, type ShardSummary } from "./shard-summary.js";

const fixture = trainedArtifact();
const [header, ...body] = parseCsv(readFileSync(fixture.dataCsv, "utf8")) as [
  string[],
  ...string[][],
];
const idAt = header.indexOf("CustomerId");
const work = mkdtempSync(join(tmpdir(), "churn-batch-"));
let srv: RunningServer;

beforeAll(async () => {
  srv = await startTestServer(fixture.modelDir, { maxBatch: 5000 });
});
afterAll(async () => {
  await srv?.close();
  rmSync(work, { recursive: true, force: true });
});

/** Runs one shard of the fixture's model in-process. */
const runShard = (flags: Partial<Record<BatchSettingName, string>>) =>
  runShardIn(fixture.modelDir, work, flags);

async function readParquet(path: string) {
  return parquetReadObjects({ file: await asyncBufferFromFile(path) });
}

describe("churn-runtime batch", () => {
  const out = join(work, "scores");

  it("scores every customer once over 4 shards, each probability equal to POST /v1/score's", async () => {
    const summaries: ShardSummary[] = [];
    for (let index = 0; index < 4; index++) {
      const r = await runShard({
        input: fixture.dataCsv,
        output: out,
        shards: "4",
        index: String(index),
        batchRows: "300",
      });
      expect(r.code).toBe(BatchExit.ok);
      summaries.push(r.summary);
    }
    expect(summaries.reduce((n, s) => n + s.scored, 0)).toBe(body.length);
    expect(summaries.every((s) => s.rejected === 0 && s.scored > 0)).toBe(true);
    expect(readdirSync(out).sort()).toEqual([
      "part-0.parquet",
      "part-1.parquet",
      "part-2.parquet",
      "part-3.parquet",
      "rejects-0.csv",
      "rejects-1.csv",
      "rejects-2.csv",
      "rejects-3.csv",
    ]);
    const scored = new Map<string, number>();
    for (let i = 0; i < 4; i++) {
      for (const row of await readParquet(join(out, `part-${i}.parquet`))) {
        expect(scored.has(row.CustomerId)).toBe(false);
        scored.set(row.CustomerId as string, row.probability as number);
      }
    }
    expect([...scored.keys()].sort()).toEqual(body.map((r) => r[idAt]).sort());

    // A sample through the online path: the same numbers, bit for bit.
    const sample = body.filter((_, i) => i % 37 === 0);
    const instances = sample.map((cells) => {
      const row: Record<string, unknown> = {};
      header.forEach((name, i) => {
        const v = cells[i] as string;
        if (["Surname", "Geography", "Gender", "Card Type"].includes(name)) row[name] = v;
        else if (name !== "RowNumber") row[name] = v === "" ? null : Number(v);
      });
      return row;
    });
    const online = await post(`${srv.url}/v1/score`, { instances });
    expect(online.status).toBe(200);
    online.body.predictions.forEach((p: { id: number; probability: number }) => {
      expect(Object.is(scored.get(String(p.id)), p.probability)).toBe(true);
    });
  });

  it("replaces a retried index's part instead of adding one", async () => {
    const before = readFileSync(join(out, "part-2.parquet"));
    writeFileSync(join(out, ".part-2.parquet.tmp"), "a killed attempt's leftovers");
    const r = await runShard({
      input: fixture.dataCsv,
      output: out,
      shards: "4",
      index: "2",
      batchRows: "300",
    });
    expect(r.code).toBe(BatchExit.ok);
    expect(readdirSync(out).filter((f) => f.includes("part-2"))).toEqual(["part-2.parquet"]);
    expect(readFileSync(join(out, "part-2.parquet")).equals(before)).toBe(true);
  });

  it("reads Parquet, writes CSV, explains top-k drivers and rejects bad rows with the reason", async () => {
    const rows = body.slice(0, 200);
    const col = (name: string, numeric: boolean) => ({
      name,
      data: rows.map((r, i) => {
        const v = r[header.indexOf(name)] as string;
        if (name === "Age" && i === 7) return numeric ? -5 : v;
        return numeric ? Number(v) : v;
      }),
      type: numeric ? ("DOUBLE" as const) : ("STRING" as const),
    });
    const textColumns = ["Surname", "Geography", "Gender", "Card Type"];
    const input = join(work, "customers.parquet");
    parquetWriteFile({
      filename: input,
      columnData: header
        .filter((h) => h !== "RowNumber")
        .map((h) => (h === "CustomerId" ? col(h, false) : col(h, !textColumns.includes(h)))),
    });
    const csvOut = join(work, "csv-out");
    const r = await runShard({
      input,
      output: csvOut,
      outputFormat: "csv",
      explainTopK: "2",
      batchRows: "64",
    });
    expect(r.code).toBe(BatchExit.ok);
    expect(r.summary).toMatchObject({ read: 200, scored: 199, rejected: 1 });
    const [outHeader, ...outRows] = parseCsv(readFileSync(join(csvOut, "part-0.csv"), "utf8"));
    expect(outHeader).toEqual([
      "CustomerId",
      "probability",
      "label",
      "unknownCategories",
      "driver1",
      "driver1Contribution",
      "driver2",
      "driver2Contribution",
    ]);
    expect(outRows).toHaveLength(199);
    const first = outRows[0] as string[];
    expect(Math.abs(Number(first[5]))).toBeGreaterThanOrEqual(Math.abs(Number(first[7])));
    const rejects = parseCsv(readFileSync(join(csvOut, "rejects-0.csv"), "utf8"));
    expect(rejects[0]).toEqual(["position", "CustomerId", "reason"]);
    expect(rejects[1]?.[0]).toBe("row 7");
    expect(rejects[1]?.[1]).toBe(rows[7]?.[idAt]);
    expect(rejects[1]?.[2]).toMatch(/Age/);
  });

  it("fails the shard (exit 3) and publishes no part when rejects pass the limit", async () => {
    const bad = join(work, "bad.csv");
    const lines = [header.join(","), ...body.slice(0, 20).map((r) => r.join(","))];
    lines.push("1,2,3");
    writeFileSync(bad, `${lines.join("\n")}\n`);
    const dir = join(work, "limited");
    const r = await runShard({
      input: bad,
      output: dir,
      maxRejectedRows: "0",
      maxRejectedPercent: "100",
    });
    expect(r.code).toBe(BatchExit.tooManyRejects);
    expect(r.summary.error).toMatch(/maxRejectedRows 0/);
    expect(readdirSync(dir)).toEqual(["rejects-0.csv"]);
    expect(readFileSync(join(dir, "rejects-0.csv"), "utf8")).toMatch(/has 3 cells, the header 18/);
  });

  it("exits 2 when the model is not the one expected", async () => {
    const r = await runShard({
      input: fixture.dataCsv,
      output: out,
      expectedDigest: "0".repeat(64),
    });
    expect(r.code).toBe(BatchExit.unusable);
    expect(r.summary.error).toMatch(/expected digest/);
  });
});
