#!/usr/bin/env node
// `npm run bench -- batch`: batch scoring throughput, rows per second per core (rows / CPU
// seconds of the process) and peak RSS of one shard, for `churn-runtime batch` (CSV in, Parquet
// out) without and with top-3 SHAP drivers, against the in-process floor (ModelService.predict
// on parsed rows, no I/O) and a plain Python script (pandas + onnxruntime + pyarrow, with
// xgboost's native pred_contribs for the drivers) doing the same work, and checks that the peer's
// answers agree with the runtime's per customer. Prints a table and writes bench/results/batch.json. CPU time, not wall time, so
// the numbers survive a busy machine better; the load average is printed beside them.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, homedir, loadavg } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = resolve(fileURLToPath(import.meta.url), "../../..");
const pythonBin = join(root, ".venv", "bin", "python");
const here = join(root, "bench", "batch");
const { values: opts } = parseArgs({
  options: {
    rows: { type: "string", default: "1000000" },
    "batch-rows": { type: "string", default: "5000" },
    "explain-top-k": { type: "string", default: "3" },
    "model-dir": { type: "string" },
    booster: { type: "string" },
    "skip-python": { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});
if (opts.help) {
  process.stdout.write(`options:
  --rows N            synthetic customers to score (default 1000000)
  --batch-rows N      rows per batch (default 5000)
  --explain-top-k K   SHAP drivers in the explained run (default 3; 0 skips it)
  --model-dir DIR     benchmark this artifact instead of the bank model trained here
  --booster FILE      that artifact's xgboost booster, for the Python peer's SHAP drivers
                      (bench/runtime/booster.py reproduces one; without it that peer is skipped)
  --skip-python       no plain Python peer
`);
  process.exit(0);
}
const rows = Number(opts.rows);
const cache = join(homedir(), ".cache", "churn-operator", "bench-batch");
const log = (m) => process.stderr.write(`[bench batch] ${m}\n`);
const lastJson = (out) => JSON.parse(out.trim().split("\n").at(-1));

/** The bank model, trained once per spec, trainer and lock file, and the data it was trained on. */
function ensureModel() {
  if (opts["model-dir"]) return { modelDir: resolve(opts["model-dir"]) };
  const spec = join(root, "trainer", "examples", "bank-churn.yaml");
  const h = createHash("sha256");
  for (const f of [spec, join(root, "trainer", "requirements.lock")]) h.update(readFileSync(f));
  const dir = join(cache, `model-${h.digest("hex").slice(0, 12)}`);
  const store = join(dir, "store");
  const found = () =>
    existsSync(store) ? readdirSync(store).filter((d) => /^[0-9a-f]{64}$/.test(d)) : [];
  if (found().length === 0) {
    mkdirSync(dir, { recursive: true });
    const data = join(dir, "train.csv");
    log("training the benchmark model on 10,000 synthetic customers");
    execFileSync(pythonBin, [
      "-m",
      "churn_trainer",
      "synth",
      "--rows",
      "10000",
      "--seed",
      "1",
      "--output",
      data,
    ]);
    execFileSync(pythonBin, [
      "-m",
      "churn_trainer",
      "train",
      "--spec",
      spec,
      "--data",
      data,
      "--output",
      store,
    ]);
  }
  return { modelDir: join(store, found()[0]), spec, trainData: join(dir, "train.csv") };
}

/** The artifact's xgboost booster for the Python peer's drivers: given, or reproduced once. */
function ensureBooster({ modelDir, spec, trainData }) {
  if (opts.booster) return resolve(opts.booster);
  if (!trainData) return undefined;
  const booster = join(modelDir, "..", "..", "model.ubj");
  if (!existsSync(booster)) {
    log("reproducing the artifact's booster for the Python peer (bench/runtime/booster.py)");
    const args = ["--spec", spec, "--data", trainData, "--model-dir", modelDir];
    execFileSync(
      pythonBin,
      [join(root, "bench", "runtime", "booster.py"), ...args, "--output", booster],
      {
        stdio: ["ignore", "ignore", "inherit"],
      },
    );
  }
  return booster;
}

/** `rows` synthetic customers, written once per size. */
function ensureData() {
  const data = join(cache, `customers-${rows}.csv`);
  if (!existsSync(data)) {
    mkdirSync(cache, { recursive: true });
    log(`synthesising ${rows} customers`);
    execFileSync(pythonBin, [
      "-m",
      "churn_trainer",
      "synth",
      "--rows",
      String(rows),
      "--seed",
      "7",
      "--output",
      data,
    ]);
  }
  return data;
}

const model = ensureModel();
const { modelDir } = model;
const data = ensureData();
// This run's own scratch space: two benchmarks running at once (each takes many minutes at 10M
// rows) must not empty or overwrite each other's outputs.
const scratch = join(cache, "runs", String(process.pid));
const out = join(scratch, "out");
const load0 = loadavg();
const results = [];
let agreement;
const measure = (name, cmd, args) => {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  log(`${name} (load ${loadavg()[0].toFixed(2)})`);
  const r = lastJson(
    execFileSync(cmd, args, {
      cwd: root,
      maxBuffer: 1 << 26,
      stdio: ["ignore", "pipe", "inherit"],
    }).toString(),
  );
  const result = {
    name,
    rows,
    rowsPerCpuSecond: Math.round(rows / r.cpuSeconds),
    cpuSeconds: r.cpuSeconds,
    peakRssMb: Math.round(r.maxRssKb / 1024),
  };
  results.push(result);
  // Said as soon as it is known: a later step failing must not lose an hour of measurements.
  log(`  ${JSON.stringify(result)}`);
};
const batchRows = opts["batch-rows"];
const topK = opts["explain-top-k"];
measure("in-process floor (ModelService.predict, no I/O)", process.execPath, [
  join(here, "floor.mjs"),
  modelDir,
  data,
  String(rows),
  batchRows,
  "0",
]);
const cli = (k) => [
  join(here, "measured.mjs"),
  "batch",
  "--model-dir",
  modelDir,
  "--input",
  data,
  "--output",
  out,
  "--batch-rows",
  batchRows,
  "--explain-top-k",
  k,
  "--log-level",
  "warn",
];
measure("churn-runtime batch (CSV -> Parquet)", process.execPath, cli("0"));
// The peer writes beside `out`, which each measured run empties, so the explained runs can be
// compared after both have run.
const peerOut = join(scratch, "python.parquet");
const peerArgs = (extra) => [
  join(here, "plain_batch.py"),
  modelDir,
  data,
  peerOut,
  batchRows,
  ...extra,
];
if (!opts["skip-python"]) {
  measure("plain Python (pandas + onnxruntime + pyarrow)", pythonBin, peerArgs([]));
}
if (Number(topK) > 0) {
  measure(`in-process floor with top-${topK} SHAP`, process.execPath, [
    join(here, "floor.mjs"),
    modelDir,
    data,
    String(rows),
    batchRows,
    topK,
  ]);
  const booster = opts["skip-python"] ? undefined : ensureBooster(model);
  if (booster) {
    const name = `plain Python with top-${topK} SHAP (xgboost pred_contribs)`;
    measure(name, pythonBin, peerArgs(["--booster", booster, "--explain-top-k", topK]));
  } else if (!opts["skip-python"]) {
    log("no booster for this artifact (--booster FILE): the Python peer's SHAP run is skipped");
  }
  measure(`churn-runtime batch with top-${topK} SHAP`, process.execPath, cli(topK));
  if (booster) agreement = compareWithPeer();
}
rmSync(scratch, { recursive: true, force: true });
/** The per-customer agreement of the explained runs, or undefined (said) when it cannot be read. */
function compareWithPeer() {
  try {
    const args = [join(here, "agree.py"), out, peerOut, topK];
    return lastJson(
      execFileSync(pythonBin, args, { stdio: ["ignore", "pipe", "inherit"] }).toString(),
    );
  } catch (e) {
    log(`the agreement check failed, the speeds stand: ${e.message.split("\n")[0]}`);
    return undefined;
  }
}

const load1 = loadavg();
const floor = results[0].rowsPerCpuSecond;
const header = `batch scoring of ${rows} synthetic customers, one shard, ${cpus().length} cores, load average ${load0.map((v) => v.toFixed(2)).join(" ")} at the start and ${load1.map((v) => v.toFixed(2)).join(" ")} at the end`;
process.stdout.write(
  `${header}\n\n| run | rows/s per core | vs floor | CPU s | peak RSS MB |\n| --- | --- | --- | --- | --- |\n`,
);
for (const r of results) {
  process.stdout.write(
    `| ${r.name} | ${r.rowsPerCpuSecond} | ${(r.rowsPerCpuSecond / floor).toFixed(2)} | ${r.cpuSeconds.toFixed(2)} | ${r.peakRssMb} |\n`,
  );
}
if (agreement) {
  process.stdout.write(
    `\nruntime vs Python peer, top-${topK} SHAP, per customer: ${agreement.rowsCompared} rows joined (${agreement.rowsOnlyOneSide} on one side only), probability max diff ${agreement.maxProbabilityDiff.toExponential(2)}, same drivers in the same order for ${(100 * agreement.sameDriversShare).toFixed(3)}% (max contribution diff there ${agreement.maxContributionDiff.toExponential(2)})\n`,
  );
}
mkdirSync(join(root, "bench", "results"), { recursive: true });
writeFileSync(
  join(root, "bench", "results", "batch.json"),
  `${JSON.stringify({ header, results, agreement }, null, 2)}\n`,
);
