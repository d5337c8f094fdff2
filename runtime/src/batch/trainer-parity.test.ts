// No train/serve skew on a real-world-shaped file: the telecom fixture's own training data (IBM
// Telco's shape: Yes/No booleans, blank TotalCharges for new customers, semicolons), made more
// hostile (BOM, CRLF, padded cells, lower-case words, NA tokens, quoted delimiters), is read by
// the trainer's parser and scored by the trainer's ONNX session, then scored by `churn-runtime
// batch` and POST /v1/score: every customer gets the trainer's probability.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parquetWriteFile } from "hyparquet-writer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { runShard } from "../../test-support/run-shard.js";
import { post, startTestServer } from "../../test-support/test-server.js";
import { repoRoot, TELECOM, trainedArtifact } from "../../test-support/trained-artifact.js";
import { parseCsv } from "../data/csv-reader.js";
import type { RunningServer } from "../http/server.js";
import { BatchExit } from "./shard-summary.js";

const fixture = trainedArtifact(TELECOM);
const work = mkdtempSync(join(tmpdir(), "churn-parity-"));
let srv: RunningServer;
afterAll(async () => {
  await srv?.close();
  rmSync(work, { recursive: true, force: true });
});

/** Categories keep their case; lower-case words are for booleans. */
const CATEGORIES = new Set(["Partner", "Dependents", "MultipleLines", "InternetService"]);

/** A cell of row `i` of column `name` as people's exports write it: same meaning. */
function hostileCell(cell: string, name: string, i: number): string {
  if (name === "customerID") return cell;
  if (name === "Notes") return `said "cancel; now", ${i}`;
  let c = cell;
  if (name === "TotalCharges" && c.trim() === "" && i % 2 === 0) c = "NA";
  if (i % 4 === 0 && !CATEGORIES.has(name) && /^(Yes|No)$/.test(c)) c = c.toLowerCase();
  return i % 3 === 0 ? ` ${c}\u00a0` : c;
}

/** The fixture's table rewritten cell by cell: its header and rows. */
function hostileTable(): { names: string[]; rows: string[][] } {
  const [header, ...rows] = parseCsv(readFileSync(fixture.dataCsv, "utf8"), ";") as string[][];
  const names = header as string[];
  return {
    names,
    rows: rows.map((cells, i) => cells.map((c, j) => hostileCell(c, names[j] as string, i))),
  };
}

/** The table as a CSV with a BOM, CRLF and quoted delimiters. */
function hostileCsv({ names, rows }: { names: string[]; rows: string[][] }): string {
  const quote = (c: string) => (/[;"\r\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c);
  const lines = rows.map((cells) => cells.map(quote).join(";"));
  return `\ufeff${[names.join(";"), ...lines].join("\r\n")}\r\n`;
}

/**
 * The table as Parquet with every column text, as many exports write it; `doubles` columns as
 * DOUBLE instead, a cell that is no number written as NaN (not null), as Spark and numpy do.
 */
function writeHostileParquet(
  filename: string,
  { names, rows }: { names: string[]; rows: string[][] },
  doubles: readonly string[] = [],
) {
  parquetWriteFile({
    filename,
    columnData: names.map((name, j) =>
      doubles.includes(name)
        ? {
            name,
            data: rows.map((r) => Number((r[j] as string).trim() || Number.NaN)),
            type: "DOUBLE" as const,
          }
        : { name, data: rows.map((r) => r[j] as string), type: "STRING" as const },
    ),
  });
}

interface TrainerScores {
  ids: string[];
  probabilities: number[];
  rows: Record<string, unknown>[];
}

const fixtureSpec = join(dirname(fixture.dataCsv), "spec.yaml");

/** The trainer's reading of `csv` (its parser and spec) and its ONNX session's probabilities. */
function trainerScores(
  csv: string,
  spec = fixtureSpec,
  modelDir = fixture.modelDir,
): TrainerScores {
  const script = `
import json, math, sys
import onnxruntime as ort
from churn_trainer import data
from churn_trainer.spec import load_spec
spec_path, csv, model_dir = sys.argv[1:4]
spec = load_spec(spec_path, data_override=csv)
t = data.parse(data.fetch(csv, spec.dataset), spec, [])
sess = ort.InferenceSession(model_dir + "/model.onnx")
p = sess.run(["probability"], data.model_inputs(t.features, spec))[0][:, 0]
def plain(v):
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else v
rows = [{k: plain(v) for k, v in r.items()} for r in t.features.to_dict("records")]
print(json.dumps({"ids": list(t.ids), "probabilities": [float(x) for x in p], "rows": rows}))
`;
  const stdout = execFileSync(
    join(repoRoot, ".venv", "bin", "python"),
    ["-c", script, spec, csv, modelDir],
    { encoding: "utf8", maxBuffer: 64 << 20 },
  );
  return JSON.parse(stdout) as TrainerScores;
}

describe("the telecom file scores as it trained", () => {
  const csv = join(work, "hostile.csv");
  const parquet = join(work, "hostile.parquet");
  const parquetNaN = join(work, "hostile-nan.parquet");
  let trainer: TrainerScores;
  beforeAll(async () => {
    const table = hostileTable();
    writeFileSync(csv, hostileCsv(table));
    writeHostileParquet(parquet, table);
    writeHostileParquet(parquetNaN, table, ["MonthlyCharges", "TotalCharges"]);
    trainer = trainerScores(csv);
    srv = await startTestServer(fixture.modelDir, { maxBatch: 5000 });
  });

  it.each([
    ["CSV", csv, ";"],
    ["Parquet of text columns", parquet, ","],
    ["Parquet with NaN for missing numbers", parquetNaN, "|"],
  ])(
    "churn-runtime batch gives every customer of the %s the trainer's probability",
    async (_kind, input, delimiter) => {
      const out = join(work, `out-${delimiter}`);
      const r = await runShard(fixture.modelDir, work, {
        input,
        delimiter,
        output: out,
        outputFormat: "csv",
        maxRejectedPercent: "0",
      });
      // the trainer reads a Parquet file as it reads the CSV
      if (input !== csv) expect(trainerScores(input)).toEqual(trainer);
      expect(r.summary.error ?? null).toBeNull();
      expect(r.code).toBe(BatchExit.ok);
      const [head, ...rows] = parseCsv(readFileSync(join(out, "part-0.csv"), "utf8")) as string[][];
      const at = (name: string) => (head as string[]).indexOf(name);
      const served = new Map(rows.map((c) => [c[at("customerID")], Number(c[at("probability")])]));
      expect(served.size).toBe(trainer.ids.length);
      const worst = Math.max(
        ...trainer.ids.map((id, i) =>
          Math.abs((served.get(id) ?? Number.NaN) - (trainer.probabilities[i] as number)),
        ),
      );
      expect(worst).toBeLessThanOrEqual(1e-6);
    },
  );

  it("refuses the file up front, naming its delimiter, when read with the wrong one", async () => {
    const out = join(work, "comma");
    const r = await runShard(fixture.modelDir, work, { input: csv, output: out });
    expect(r.code).toBe(BatchExit.unusable);
    expect(r.summary.error).toMatch(/lacks the model's column\(s\) SeniorCitizen, .*tenure/);
    expect(r.summary.error).toMatch(/delimited by ";" \(--delimiter\)/);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });

  /** The hostile table without one column. */
  const without = (column: string) => {
    const { names, rows } = hostileTable();
    const keep = names.map((n, j) => (n === column ? -1 : j)).filter((j) => j >= 0);
    return {
      names: keep.map((j) => names[j] as string),
      rows: rows.map((r) => keep.map((j) => r[j] as string)),
    };
  };

  it("refuses a Parquet file without a required column up front, naming it", async () => {
    const input = join(work, "no-tenure.parquet");
    writeHostileParquet(input, without("tenure"));
    const r = await runShard(fixture.modelDir, work, { input, output: join(work, "no-tenure") });
    expect(r.code).toBe(BatchExit.unusable);
    expect(r.summary.error).toMatch(/lacks the model's column\(s\) tenure$/);
  });

  it("refuses a file without the id column: its scores could not be told apart", async () => {
    const input = join(work, "no-id.csv");
    writeFileSync(input, hostileCsv(without("customerID")));
    const output = join(work, "no-id");
    const r = await runShard(fixture.modelDir, work, { input, delimiter: ";", output });
    expect(r.code).toBe(BatchExit.unusable);
    expect(r.summary.error).toMatch(
      /lacks the id column customerID \(--id-column names another\)$/,
    );
    expect(existsSync(output) ? readdirSync(output) : []).toEqual([]);
  });

  it("POST /v1/score gives the trainer's typed rows the trainer's probability", async () => {
    const instances = trainer.rows.slice(0, 1000);
    const res = await post(`${srv.url}/v1/score`, { instances });
    expect(res.status).toBe(200);
    res.body.predictions.forEach((p: { probability: number }, i: number) => {
      expect(Math.abs(p.probability - (trainer.probabilities[i] as number))).toBeLessThanOrEqual(
        1e-6,
      );
    });
  });
});

describe("an integer-coded category from Parquet scores as it trained", () => {
  // A region code stored as INT32 (as pandas and Spark write an integer column): the trainer
  // reads its categories as the text of each integer ("3").
  let modelDir: string;
  let spec: string;
  const input = join(work, "regions.parquet");
  beforeAll(() => {
    const { names, rows } = hostileTable();
    parquetWriteFile({
      filename: input,
      columnData: [
        ...names.map((name, j) => ({
          name,
          data: rows.map((r) => r[j] as string),
          type: "STRING" as const,
        })),
        { name: "Region", data: rows.map((_, i) => (i * 7) % 5), type: "INT32" as const },
      ],
    });
    const doc = parse(readFileSync(fixtureSpec, "utf8")) as {
      schema: { features: Record<string, unknown>[] };
    };
    doc.schema.features.push({ name: "Region", type: "categorical" });
    spec = join(work, "regions.yaml");
    writeFileSync(spec, stringify(doc));
    const store = join(work, "regions-store");
    execFileSync(
      join(repoRoot, ".venv", "bin", "python"),
      ["-m", "churn_trainer", "train", "--spec", spec, "--data", input, "--output", store],
      { cwd: repoRoot, stdio: "ignore", timeout: 600_000 },
    );
    modelDir = join(store, readdirSync(store).find((d) => /^[0-9a-f]{64}$/.test(d)) as string);
  }, 600_000);

  it("gives every customer the trainer's probability", async () => {
    const card = JSON.parse(readFileSync(join(modelDir, "model.json"), "utf8"));
    expect(card.features.encoded).toContain("Region=3");
    const trainer = trainerScores(input, spec, modelDir);
    const out = join(work, "regions-out");
    const r = await runShard(modelDir, work, {
      input,
      output: out,
      outputFormat: "csv",
      maxRejectedPercent: "0",
    });
    expect(r.summary.error ?? null).toBeNull();
    const [head, ...rows] = parseCsv(readFileSync(join(out, "part-0.csv"), "utf8")) as string[][];
    const at = (name: string) => (head as string[]).indexOf(name);
    const served = new Map(rows.map((c) => [c[at("customerID")], Number(c[at("probability")])]));
    const worst = Math.max(
      ...trainer.ids.map((id, i) =>
        Math.abs((served.get(id) ?? Number.NaN) - (trainer.probabilities[i] as number)),
      ),
    );
    expect(worst).toBeLessThanOrEqual(1e-6);
  });
});
