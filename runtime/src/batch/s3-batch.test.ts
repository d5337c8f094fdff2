// `churn-runtime batch` against a real S3 server (SeaweedFS, started here): a CSV object read
// by byte range and a Parquet object by row range over 4 shards, parts uploaded to an S3
// prefix (a retried index overwrites its own key), and refused keys or a missing object
// failing the shard as unusable, with a message naming the problem.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parquetReadObjects } from "hyparquet";
import { parquetWriteBuffer } from "hyparquet-writer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { putObjectViaFiler, type S3Server, startS3Server } from "../../../cluster/s3-server.js";
import { runShard as runShardIn } from "../../test-support/run-shard.js";
import { trainedArtifact } from "../../test-support/trained-artifact.js";
import { parseCsv } from "../data/csv-reader.js";
import type { BatchSettingName } from "./batch-config.js";
import { S3ObjectStore, s3AccessFromEnv } from "./s3-object-store.js";
import { BatchExit } from "./shard-summary.js";

const fixture = trainedArtifact();
const csv = readFileSync(fixture.dataCsv);
const [header, ...body] = parseCsv(csv.toString("utf8")) as [string[], ...string[][]];
const ids = body.map((r) => r[header.indexOf("CustomerId")]).sort();
const BUCKET = "batch";
const work = mkdtempSync(join(tmpdir(), "churn-s3-batch-"));
let s3: S3Server;
let store: S3ObjectStore;

beforeAll(async () => {
  s3 = await startS3Server({ dir: join(work, "s3") });
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
  });
  store = new S3ObjectStore(s3AccessFromEnv(process.env));
  await putObjectViaFiler(s3, BUCKET, "in/customers.csv", csv);
  const textColumns = ["Surname", "Geography", "Gender", "Card Type", "CustomerId"];
  const parquet = parquetWriteBuffer({
    columnData: header
      .filter((h) => h !== "RowNumber")
      .map((h) => {
        const text = textColumns.includes(h);
        const data = body.map((r) => (text ? r[header.indexOf(h)] : Number(r[header.indexOf(h)])));
        return { name: h, data, type: text ? ("STRING" as const) : ("DOUBLE" as const) };
      }),
    rowGroupSize: 256,
  });
  await store.put({ bucket: BUCKET, key: "in/customers.parquet" }, new Uint8Array(parquet));
}, 120_000);

afterAll(async () => {
  await s3?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** Runs one shard of the fixture's model in-process. */
const runShard = (flags: Partial<Record<BatchSettingName, string>>) =>
  runShardIn(fixture.modelDir, work, flags);

/** The names under a prefix, through the filer's listing (independent of the code tested). */
async function listed(prefix: string): Promise<string[]> {
  const res = await fetch(`${s3.filerUrl}/buckets/${BUCKET}/${prefix}?limit=1000`, {
    headers: { accept: "application/json" },
  });
  const json = (await res.json()) as { Entries?: { FullPath: string }[] | null };
  return (json.Entries ?? []).map((e) => e.FullPath.split("/").at(-1) ?? "").sort();
}

async function partRows(key: string): Promise<Record<string, unknown>[]> {
  const bytes = await (await store.get({ bucket: BUCKET, key })).arrayBuffer();
  return parquetReadObjects({ file: bytes });
}

async function partIds(key: string): Promise<string[]> {
  return (await partRows(key)).map((r) => String(r.CustomerId));
}

/** Runs shards 0..n-1 of `input` into `out`; every customer's probability by id. */
async function scoresOf(input: string, out: string, shards: number) {
  const scores = new Map<string, unknown>();
  const scored: number[] = [];
  const listings: (string | undefined)[] = [];
  for (let index = 0; index < shards; index++) {
    const r = await runShard({
      input,
      output: `s3://${BUCKET}/${out}`,
      shards: String(shards),
      index: String(index),
      batchRows: "300",
    });
    expect(r.code, r.summary.error).toBe(BatchExit.ok);
    expect(r.summary.rejected).toBe(0);
    scored.push(r.summary.scored);
    listings.push(r.summary.inputListing);
    for (const row of await partRows(`${out}part-${index}.parquet`)) {
      expect(scores.has(String(row.CustomerId)), `${row.CustomerId} twice`).toBe(false);
      scores.set(String(row.CustomerId), row.probability);
    }
  }
  return { scores, scored, listings };
}

describe("churn-runtime batch on S3", () => {
  it.each([
    ["a CSV object by byte range", "customers.csv", "csv-out/"],
    ["a Parquet object by row range", "customers.parquet", "parquet-out/"],
  ])("scores %s over 4 shards into part files under an S3 prefix", async (_what, file, out) => {
    const all: string[] = [];
    for (let index = 0; index < 4; index++) {
      const r = await runShard({
        input: `s3://${BUCKET}/in/${file}`,
        output: `s3://${BUCKET}/${out}`,
        shards: "4",
        index: String(index),
        batchRows: "300",
      });
      expect(r.code, r.summary.error).toBe(BatchExit.ok);
      expect(r.summary.scored).toBeGreaterThan(0);
      all.push(...(await partIds(`${out}part-${index}.parquet`)));
    }
    expect(all.sort()).toEqual(ids);
    expect(await listed(out)).toEqual(
      [0, 1, 2, 3].flatMap((i) => [`part-${i}.parquet`, `rejects-${i}.csv`]).sort(),
    );
  });

  it("scores every object under a prefix (3 CSV objects of different sizes, 4 shards), each customer once, as the single object scores them", async () => {
    const lines = csv.toString("utf8").trimEnd().split("\n");
    const [head, ...rows] = lines as [string, ...string[]];
    const cuts = [0, Math.floor(rows.length * 0.1), Math.floor(rows.length * 0.4), rows.length];
    for (let i = 0; i < 3; i++) {
      const part = [head, ...rows.slice(cuts[i], cuts[i + 1])].join("\n");
      await store.put({ bucket: BUCKET, key: `multi/c-${i}.csv` }, Buffer.from(`${part}\n`));
    }
    // A zero-byte "directory" marker and a _SUCCESS file: not data, skipped.
    await store.put({ bucket: BUCKET, key: "multi/" }, new Uint8Array(0));
    await store.put({ bucket: BUCKET, key: "multi/_SUCCESS" }, new Uint8Array(0));
    const multi = await scoresOf(`s3://${BUCKET}/multi/`, "multi-out/", 4);
    const single = await scoresOf(`s3://${BUCKET}/in/customers.csv`, "single-out/", 1);
    expect([...multi.scores.keys()].sort()).toEqual(ids);
    expect(multi.scores).toEqual(single.scores);
    // ~1/4 of the bytes each: no shard is idle or holds half the rows.
    for (const n of multi.scored) expect(n).toBeGreaterThan(ids.length / 8);
    // Every shard planned from the same listing, and says so (the operator compares them).
    expect(multi.listings[0]).toMatch(/^[0-9a-f]{16}$/);
    expect(new Set(multi.listings).size).toBe(1);
    expect(single.listings).toEqual([undefined]);
  });

  it("replaces a retried index's part: the same key, the same rows, no second object", async () => {
    const r = await runShard({
      input: `s3://${BUCKET}/in/customers.csv`,
      output: `s3://${BUCKET}/csv-out/`,
      shards: "4",
      index: "2",
      batchRows: "300",
    });
    expect(r.code).toBe(BatchExit.ok);
    expect((await listed("csv-out/")).filter((f) => f.includes("-2."))).toEqual([
      "part-2.parquet",
      "rejects-2.csv",
    ]);
    expect((await partIds("csv-out/part-2.parquet")).length).toBe(r.summary.scored);
  });

  it("fails unusable (exit 2), naming the keys, when the store refuses them", async () => {
    const good = process.env.AWS_SECRET_ACCESS_KEY;
    process.env.AWS_SECRET_ACCESS_KEY = `${good?.slice(0, -4)}XXXX`;
    try {
      const r = await runShard({
        input: `s3://${BUCKET}/in/customers.csv`,
        output: join(work, "x"),
      });
      expect(r.code).toBe(BatchExit.unusable);
      expect(r.summary.error).toMatch(/SignatureDoesNotMatch|AccessDenied/);
      expect(r.summary.error).toContain("AWS_SECRET_ACCESS_KEY");
      expect(r.summary.s3Problem).toBe("credentials");
    } finally {
      process.env.AWS_SECRET_ACCESS_KEY = good;
    }
  });

  it("fails unusable (exit 2), naming the object, when the key does not exist", async () => {
    const r = await runShard({ input: `s3://${BUCKET}/in/nobody.csv`, output: join(work, "y") });
    expect(r.code).toBe(BatchExit.unusable);
    expect(r.summary.error).toContain(`s3://${BUCKET}/in/nobody.csv`);
    expect(r.summary.error).toMatch(/NoSuchKey|no such object/);
    expect(r.summary.s3Problem).toBe("not-found");
  });
});
