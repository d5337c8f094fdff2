#!/usr/bin/env node
// Runtime benchmark (`npm run bench:runtime`, or `npm run bench -- runtime --seconds 3`). Two
// models trained by the trainer on synthetic data: the seed-shaped bank model and a wide,
// mostly-categorical telecom-shaped one (bench/runtime/telecom-wide.yaml). For each, one run on
// one machine:
//   (a) churn-runtime over HTTP: /v1/score at batch 1, 100 and 1000, /v1/explain at batch 1,
//       and /v2/models/{name}/infer (the Open Inference Protocol) when the server speaks it;
//   (b) MLServer 1.7.1 + mlserver-xgboost serving the identical booster, given pre-encoded
//       vectors (its best case), at the same batch sizes;
//   (c) in-process floors on one thread: the runtime's compiled engine and onnxruntime (raw
//       rows in, probabilities out), xgboost's inplace_predict on the encoded vectors, TreeSHAP
//       against xgboost's pred_contribs.
// Servers run pinned to CPU 0 (taskset) and this process, the load generator (autocannon, in
// process), to CPU 1; "per core" divides by the server's CPU actually used (/proc). Every
// scenario runs once per round, rounds interleaved; the median round is reported. `--soak N`
// adds N seconds of full load on the seed model with the server's RSS sampled. Results: tables
// on stdout and bench/results/runtime.json.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, loadavg } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { ensureBuild, root, venvPython } from "../../scripts/setup.mjs";

const MODELS = {
  seed: {
    spec: join(root, "trainer", "examples", "bank-churn.yaml"),
    shape: "bank",
    delimiter: ",",
  },
  telecom: {
    spec: join(root, "bench", "runtime", "telecom-wide.yaml"),
    shape: "telecom",
    delimiter: ";",
  },
};

const USAGE = `usage: npm run bench:runtime -- [options]
       npm run bench -- runtime [options]

options:
  --seconds N        per measurement (default 5, at least 2)
  --rounds N         rounds; each scenario reports its median round (default 3)
  --models LIST      comma-separated, of ${Object.keys(MODELS).join(", ")} (default: all)
  --model-dir DIR    benchmark this artifact instead (with --skip-mlserver unless it has model.ubj)
  --skip-mlserver    leave out MLServer (no bench venv needed)
  --soak N           then N seconds of full load on the first model, RSS sampled (e.g. 600)
  --no-pin           do not pin the server and the load generator to separate CPUs
  --batches LIST     comma-separated batch sizes (default 1,100,1000)
  --cpu-prof DIR     write each churn-runtime server's CPU profile (node --cpu-prof) to DIR
  --help`;

const SERVER_CPU = "0";
const LOAD_CPU = "1";
/** Connections per batch size: enough to keep one server core busy (4 for any other size). */
const CONNECTIONS = { 1: 16, 100: 4, 1000: 4 };

const cache = join(root, ".cache", "bench-runtime");
const benchVenv = join(root, ".cache", "bench-venv");
let opts;
try {
  ({ values: opts } = parseArgs({
    options: {
      seconds: { type: "string", default: "5" },
      rounds: { type: "string", default: "3" },
      models: { type: "string", default: Object.keys(MODELS).join(",") },
      "model-dir": { type: "string" },
      "skip-mlserver": { type: "boolean", default: false },
      soak: { type: "string", default: "0" },
      "no-pin": { type: "boolean", default: false },
      batches: { type: "string", default: "1,100,1000" },
      "cpu-prof": { type: "string" },
      help: { type: "boolean", default: false },
    },
  }));
} catch (err) {
  process.stderr.write(`${err.message}\n\n${USAGE}\n`);
  process.exit(64);
}
if (opts.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const BATCHES = opts.batches.split(",").map(Number);
if (BATCHES.some((n) => !Number.isSafeInteger(n) || n < 1 || n > 1000)) {
  process.stderr.write(`--batches takes sizes from 1 to 1000, got ${opts.batches}\n\n${USAGE}\n`);
  process.exit(64);
}
const SECONDS = Math.max(2, Number(opts.seconds));
const ROUNDS = Math.max(1, Number(opts.rounds));
const SOAK = Math.max(0, Number(opts.soak));
const PIN = !opts["no-pin"] && cpus().length >= 2;
const log = (msg) => process.stderr.write(`[bench] ${msg}\n`);
const sh = (cmd, args, options = {}) =>
  execFileSync(cmd, args, { cwd: root, stdio: ["ignore", "pipe", "inherit"], ...options });
// An artifact given by directory is benchmarked once, as the first model.
const wanted = opts.models
  .split(",")
  .filter(Boolean)
  .slice(0, opts["model-dir"] ? 1 : undefined);
for (const m of wanted) {
  if (!(m in MODELS)) {
    process.stderr.write(`unknown model ${m}\n\n${USAGE}\n`);
    process.exit(64);
  }
}

// The load generator (this process) on its own core: run again under taskset.
if (PIN && process.env.CHURN_BENCH_PINNED !== "1") {
  const res = spawnSync(
    "taskset",
    ["-c", LOAD_CPU, process.execPath, ...process.execArgv, ...process.argv.slice(1)],
    { stdio: "inherit", env: { ...process.env, CHURN_BENCH_PINNED: "1" } },
  );
  if (res.error) {
    log(`cannot run taskset (${res.error.message}); use --no-pin`);
    process.exit(2);
  }
  process.exit(res.status ?? 1);
}
/** A server command, pinned to the server core unless pinning is off. */
const pinned = (cmd, args) => (PIN ? ["taskset", ["-c", SERVER_CPU, cmd, ...args]] : [cmd, args]);

// ---------- set-up (cached) ----------
/** The model's artifact, trained once per spec and trainer version, and its data. */
function ensureArtifact(name) {
  const model = MODELS[name];
  if (opts["model-dir"]) return { modelDir: resolve(opts["model-dir"]), data: undefined, model };
  const key = createHash("sha256").update(readFileSync(model.spec)).digest("hex").slice(0, 12);
  const dir = join(cache, `${name}-${key}`);
  mkdirSync(dir, { recursive: true });
  const data = join(dir, "data.csv");
  const store = join(dir, "store");
  if (!existsSync(data)) {
    log(`${name}: synthesising 10000 rows`);
    const args = ["synth", "--rows", "10000", "--seed", "1", "--shape", model.shape];
    sh(venvPython, ["-m", "churn_trainer", ...args, "--output", data]);
  }
  const found = () =>
    existsSync(store) ? readdirSync(store).filter((d) => /^[0-9a-f]{64}$/.test(d)) : [];
  if (found().length === 0) {
    log(`${name}: training the benchmark artifact`);
    const args = ["train", "--spec", model.spec, "--data", data, "--output", store];
    sh(venvPython, ["-m", "churn_trainer", ...args]);
  }
  const dirs = found().sort(
    (a, b) => statSync(join(store, b)).mtimeMs - statSync(join(store, a)).mtimeMs,
  );
  // The runtime's CSV reader takes commas.
  let readable = data;
  if (model.delimiter !== ",") {
    readable = join(dir, "data-commas.csv");
    if (!existsSync(readable)) {
      writeFileSync(readable, readFileSync(data, "utf8").replaceAll(model.delimiter, ","));
    }
  }
  return { modelDir: join(store, dirs[0]), data, readable, model };
}

function ensureBenchVenv() {
  const ready = () => {
    try {
      execFileSync(
        join(benchVenv, "bin", "python"),
        ["-c", "import mlserver, mlserver_xgboost, sklearn"],
        { stdio: "ignore" },
      );
      return true;
    } catch {
      return false;
    }
  };
  if (ready()) return;
  log("creating .cache/bench-venv with MLServer 1.7.1 + mlserver-xgboost (one-off)");
  const base = execFileSync(venvPython, ["-c", "import sys; print(sys._base_executable)"])
    .toString()
    .trim();
  sh(base, ["-m", "venv", benchVenv]);
  const pip = join(benchVenv, "bin", "pip");
  sh(pip, ["install", "-q", "xgboost-cpu==3.2.0", "scikit-learn==1.9.1", "mlserver==1.7.1"]);
  // mlserver-xgboost asks for the CUDA-bundling `xgboost` wheel; xgboost-cpu provides the module.
  sh(pip, ["install", "-q", "--no-deps", "mlserver-xgboost==1.7.1"]);
}

function ensureBooster({ modelDir, data, model }) {
  const own = join(modelDir, "model.ubj");
  const digest = JSON.parse(readFileSync(join(modelDir, "model.json"), "utf8")).digest;
  const out = join(cache, digest, "model.ubj");
  const result = () => ({
    booster: existsSync(own) ? own : out,
    probeFeatures: out.replace(/\.ubj$/, ".probe-features.npy"),
  });
  if (existsSync(out)) return result();
  if (!data) throw new Error("--model-dir without model.ubj: the bench cannot rebuild its booster");
  log("reproducing the artifact's booster with the trainer's code path");
  const args = ["--spec", model.spec, "--data", data, "--model-dir", modelDir, "--output", out];
  sh(venvPython, [join(root, "bench/runtime/booster.py"), ...args]);
  return result();
}

// ---------- helpers ----------
function freePort() {
  return new Promise((res) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

async function waitFor(url, ok, timeoutMs, proc) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`${url}: server exited with ${proc.exitCode}`);
    try {
      const r = await fetch(url);
      if (ok(r.status)) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${url}`);
}

/** Stops a child with SIGTERM and waits for it (it may already have exited). */
async function stop(proc) {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once("exit", r));
  proc.kill("SIGTERM");
  await exited;
}

/** CPU seconds used so far by a process and all its descendants (Linux /proc). */
function treeCpuSeconds(pid) {
  const ticks = 100;
  let total = 0;
  const visit = (p) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      total += (Number(fields[11]) + Number(fields[12])) / ticks;
      for (const t of readdirSync(`/proc/${p}/task`)) {
        const kids = readFileSync(`/proc/${p}/task/${t}/children`, "utf8").trim();
        if (kids) for (const k of kids.split(" ")) visit(Number(k));
      }
    } catch {
      // process gone
    }
  };
  visit(pid);
  return total;
}

/** Resident set size of a process in MiB (taskset execs the server in place: same pid). */
function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

/** Runs autocannon against one endpoint and measures the server's CPU over the run. */
async function load(name, pid, { url, body, connections, rowsPerRequest, seconds = SECONDS }) {
  const cpu0 = treeCpuSeconds(pid);
  const t0 = performance.now();
  const r = await autocannon({
    url,
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
    connections,
    duration: seconds,
  });
  const wall = (performance.now() - t0) / 1000;
  const cores = (treeCpuSeconds(pid) - cpu0) / wall;
  const ok = r.requests.total - r.non2xx - r.errors;
  if (r.non2xx > 0 || r.errors > 0) log(`${name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  const reqPerSec = ok / wall;
  return {
    name,
    connections,
    rowsPerRequest,
    reqPerSec,
    rowsPerSec: reqPerSec * rowsPerRequest,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    serverCores: cores,
    reqPerSecPerCore: reqPerSec / Math.max(cores, 1e-9),
    rowsPerSecPerCore: (reqPerSec * rowsPerRequest) / Math.max(cores, 1e-9),
  };
}

function percentile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Times a call in a loop for SECONDS; per-call latency percentiles, CPU-based per-core rates. */
async function timeLoop(name, rowsPerCall, fn) {
  for (let i = 0; i < 20; i++) await fn(); // warm-up
  const lat = [];
  const cpu0 = process.cpuUsage();
  const deadline = performance.now() + SECONDS * 1000;
  while (performance.now() < deadline) {
    const t = performance.now();
    await fn();
    lat.push(performance.now() - t);
  }
  const used = process.cpuUsage(cpu0);
  const cpuSeconds = (used.user + used.system) / 1e6;
  lat.sort((a, b) => a - b);
  const total = lat.reduce((a, b) => a + b, 0) / 1000;
  const reqPerSec = lat.length / total;
  // CPU actually used (onnxruntime threads included): contention inflates wall time, not this.
  return {
    name,
    connections: 0,
    rowsPerRequest: rowsPerCall,
    reqPerSec,
    rowsPerSec: reqPerSec * rowsPerCall,
    p50Ms: percentile(lat, 0.5),
    p99Ms: percentile(lat, 0.99),
    serverCores: cpuSeconds / total,
    reqPerSecPerCore: lat.length / cpuSeconds,
    rowsPerSecPerCore: (lat.length * rowsPerCall) / cpuSeconds,
  };
}

/** A result row from the Python floors' JSON. */
function pythonResult(name, rowsPerRequest, out) {
  return {
    name,
    connections: 0,
    rowsPerRequest,
    reqPerSec: out.rowsPerSec / rowsPerRequest,
    rowsPerSec: out.rowsPerSec,
    p50Ms: out.p50Ms,
    p99Ms: out.p99Ms,
    serverCores: out.cores ?? 1,
    reqPerSecPerCore: (out.rowsPerSecPerCore ?? out.rowsPerSec) / rowsPerRequest,
    rowsPerSecPerCore: out.rowsPerSecPerCore ?? out.rowsPerSec,
  };
}

// ---------- the runtime's own modules (from dist/, built by ensureBuild) ----------
const runtimeModule = (path) => import(pathToFileURL(join(root, "dist/runtime/src", path)).href);

/** The first `n` rows of the data set as the runtime reads them, or the probe rows repeated. */
async function benchRows(card, data, reference, n) {
  if (!data) return Array.from({ length: n }, (_, i) => reference.rows[i % reference.rows.length]);
  const { FeatureSource } = await runtimeModule("data/feature-source.js");
  const rows = [];
  for (const row of (await FeatureSource.load(data, card)).values()) {
    if (rows.push(row) === n) break;
  }
  return rows;
}

/** An Open Inference Protocol infer body: one tensor per raw column. */
function v2Body(card, rows) {
  const byName = new Map(card.schema.features.map((f) => [f.name, f]));
  const inputs = card.features.raw.map((name) => {
    const type = byName.get(name).type;
    const strings = type === "categorical" || type === "ordinal";
    return {
      name,
      shape: [rows.length, 1],
      datatype: strings ? "BYTES" : "FP32",
      data: rows.map((r) => r[name] ?? null),
    };
  });
  return JSON.stringify({ inputs });
}

/** MLServer's infer body: the encoded vectors, one FP32 tensor. */
function mlserverBody(x, n, width) {
  const data = Array.from(x.subarray(0, n * width), (v) => (Number.isNaN(v) ? null : v));
  return JSON.stringify({
    inputs: [{ name: "input-0", shape: [n, width], datatype: "FP32", data }],
  });
}

const post = async (url, body) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });

// ---------- servers ----------
async function startRuntime(modelDir, env = {}) {
  const port = await freePort();
  // With --cpu-prof the server writes its profile when it exits (stop() sends SIGTERM).
  const profile = opts["cpu-prof"]
    ? ["--cpu-prof", `--cpu-prof-dir=${resolve(opts["cpu-prof"])}`, "--cpu-prof-interval=200"]
    : [];
  const [cmd, args] = pinned(process.execPath, [
    ...profile,
    join(root, "bin/churn-runtime.js"),
    "serve",
  ]);
  const proc = spawn(cmd, args, {
    env: {
      ...process.env,
      CHURN_MODEL_DIR: modelDir,
      CHURN_RUNTIME_PORT: String(port),
      CHURN_RUNTIME_HOST: "127.0.0.1",
      CHURN_MAX_BATCH: "1000",
      CHURN_MAX_EXPLAIN_ROWS: "1000",
      LOG_LEVEL: "error",
      ...env,
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(`${base}/readyz`, (s) => s === 200, 120_000, proc);
  const ready = await (await fetch(`${base}/readyz`)).json();
  return { proc, base, engine: ready.selfCheck?.scoringEngine };
}

async function startMlserver(booster) {
  ensureBenchVenv();
  const dir = join(cache, "mlserver");
  mkdirSync(join(dir, "churn"), { recursive: true });
  const [httpPort, grpcPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  writeFileSync(
    join(dir, "settings.json"),
    JSON.stringify({
      host: "127.0.0.1",
      http_port: httpPort,
      grpc_port: grpcPort,
      metrics_port: metricsPort,
      // MLServer 1.7.1's worker processes crash under current uvloop ("no current event
      // loop"); inference then runs in the server process, which also spares it the IPC hop.
      parallel_workers: 0,
    }),
  );
  writeFileSync(
    join(dir, "churn", "model-settings.json"),
    JSON.stringify({
      name: "churn",
      implementation: "mlserver_xgboost.XGBoostModel",
      parameters: { uri: booster, version: "v1" },
    }),
  );
  // One inference thread, like churn-runtime: xgboost's OpenMP pool otherwise spins against
  // the load generator on a 2-core machine.
  const [cmd, args] = pinned(join(benchVenv, "bin", "mlserver"), ["start", dir]);
  const proc = spawn(cmd, args, {
    env: { ...process.env, OMP_NUM_THREADS: "1" },
    cwd: dir,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  proc.stderr.on("data", (c) => {
    stderr = (stderr + c.toString()).slice(-4000);
  });
  try {
    const ready = `http://127.0.0.1:${httpPort}/v2/models/churn/ready`;
    await waitFor(ready, (s) => s === 200, 180_000, proc);
  } catch (err) {
    log(`MLServer failed: ${err.message}\n${stderr}`);
    await stop(proc);
    return undefined;
  }
  return { proc, url: `http://127.0.0.1:${httpPort}/v2/models/churn/infer` };
}

// ---------- one model ----------
/** In-process floors: the runtime's engines and TreeSHAP in this process. */
async function inProcessScenarios(card, modelBytes, rows, F) {
  const { OnnxScorer } = await runtimeModule("model/onnx-scorer.js");
  const { CompiledScorer } = await runtimeModule("model/compiled-scorer.js");
  const { readTreeEnsemble } = await runtimeModule("explain/onnx-trees.js");
  const { TreeExplainer } = await runtimeModule("explain/tree-shap.js");
  const onnx = await OnnxScorer.create(modelBytes, card, { intraOpThreads: 1 });
  const ensemble = readTreeEnsemble(modelBytes);
  const compiled = new CompiledScorer(card, ensemble);
  const encoded = await onnx.score(rows, true);
  const explainer = new TreeExplainer(ensemble, F);
  const phi = new Float64Array(F + 1);
  let shapRow = 0;
  const x = encoded.features;
  const scenarios = [];
  for (const n of BATCHES) {
    const batch = rows.slice(0, n);
    const c = `in-process compiled engine batch ${n}`;
    const o = `in-process onnxruntime batch ${n}`;
    scenarios.push([c, () => timeLoop(c, n, () => compiled.scoreNow(batch))]);
    scenarios.push([o, () => timeLoop(o, n, () => onnx.score(batch))]);
  }
  const shap = "in-process TreeSHAP 1 row";
  scenarios.push([
    shap,
    () =>
      timeLoop(shap, 1, () => {
        const r = shapRow++ % rows.length;
        explainer.explainRow(x.subarray(r * F, (r + 1) * F), phi);
      }),
  ]);
  return { scenarios, encoded, close: () => onnx.close() };
}

/** xgboost's own floors in Python, one thread: inplace_predict and pred_contribs. */
function xgboostScenarios(booster, probeFeatures, featuresFile, F, xgbBatch) {
  const env = { ...process.env, OMP_NUM_THREADS: "1" };
  const py = (script, args) =>
    JSON.parse(sh(venvPython, [join(root, "bench/runtime", script), ...args], { env }).toString());
  const predict = "xgboost inplace_predict";
  const contribs = "xgboost pred_contribs 1 row (Python)";
  return [
    [
      predict,
      () => {
        const args = ["--booster", booster, "--features", featuresFile, "--width", String(F)];
        const out = py("xgb_predict.py", [
          ...args,
          "--batches",
          "1,1000",
          "--seconds",
          String(SECONDS),
        ]);
        return out.map((o) => pythonResult(`${predict} batch ${o.batch}`, o.batch, o));
      },
    ],
    [
      contribs,
      () => {
        const args = ["--booster", booster, "--features", probeFeatures];
        const out = py("xgb_contribs.py", [...args, "--seconds", String(SECONDS)]);
        xgbBatch.push(out.batchRowsPerSec);
        return pythonResult(contribs, 1, {
          rowsPerSec: out.perRowRowsPerSec,
          p50Ms: out.perRowP50Ms,
          p99Ms: out.perRowP99Ms,
        });
      },
    ],
  ];
}

/** HTTP scenarios against one server: the target's name, its pid and a body per batch size. */
function httpScenarios(target, pid, url, bodyFor, batches = BATCHES) {
  return batches.map((n) => {
    const name = `${target} batch ${n}`;
    const body = bodyFor(n);
    return [
      name,
      () => load(name, pid, { url, body, connections: CONNECTIONS[n] ?? 4, rowsPerRequest: n }),
    ];
  });
}

/** Runs scenarios round by round; each result is its median round, with every round's rows/s. */
async function runRounds(label, scenarios) {
  const rounds = new Map();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [name, run] of scenarios) {
      log(`${label} round ${round}/${ROUNDS}: ${name} (load ${loadavg()[0].toFixed(2)})`);
      const out = await run();
      for (const r of Array.isArray(out) ? out : [out]) {
        if (!rounds.has(r.name)) rounds.set(r.name, []);
        rounds.get(r.name).push(r);
      }
    }
  }
  return [...rounds.values()].map((runs) => {
    runs.sort((a, b) => a.rowsPerSec - b.rowsPerSec);
    return {
      ...runs[Math.floor(runs.length / 2)],
      rounds: runs.map((r) => Math.round(r.rowsPerSec)),
    };
  });
}

/** Full load on the server for SOAK seconds; RSS every 10 s. */
async function soak(runtime, body) {
  log(`soak: ${SOAK}s at full load (batch 100, 8 connections), RSS sampled every 10 s`);
  const samples = [];
  const t0 = Date.now();
  const timer = setInterval(() => {
    samples.push({ s: Math.round((Date.now() - t0) / 1000), rssMiB: rssMiB(runtime.proc.pid) });
  }, 10_000);
  const before = rssMiB(runtime.proc.pid);
  const r = await load("soak", runtime.proc.pid, {
    url: `${runtime.base}/v1/score`,
    body,
    connections: 8,
    rowsPerRequest: 100,
    seconds: SOAK,
  });
  clearInterval(timer);
  const after = rssMiB(runtime.proc.pid);
  const warm = samples.find((x) => x.s >= 30) ?? samples[0];
  return {
    seconds: SOAK,
    rowsPerSec: r.rowsPerSec,
    p99Ms: r.p99Ms,
    rssBeforeMiB: before,
    rssAt30sMiB: warm?.rssMiB,
    rssEndMiB: after,
    rssMaxMiB: Math.max(after, ...samples.map((x) => x.rssMiB)),
    samples,
  };
}

/** The /v2 infer rows, when the server speaks the Open Inference Protocol. */
async function v2Scenarios(name, card, runtime, rows) {
  const url = `${runtime.base}/v2/models/${encodeURIComponent(card.name)}/infer`;
  // The largest body: a value the route refuses anywhere in it drops the rows, not zeros them.
  const probe = await post(url, v2Body(card, rows)).catch(() => undefined);
  if (probe?.status !== 200) {
    const why = probe ? `${probe.status} ${await probe.text()}` : "unreachable";
    log(`${name}: no /v2 infer row (${why})`);
    return [];
  }
  const bodyFor = (n) => v2Body(card, rows.slice(0, n));
  return httpScenarios("churn-runtime /v2", runtime.proc.pid, url, bodyFor);
}

/** MLServer's rows, after checking it serves the same trees (uncalibrated: the booster alone). */
async function mlserverScenarios(name, ml, x, F, p1000) {
  const res = await (await post(ml.url, mlserverBody(x, 1000, F))).json();
  const out = res.outputs?.[0]?.data ?? [];
  const probs = out.length === 2000 ? out.filter((_, i) => i % 2 === 1) : out;
  const gap = Math.max(...probs.map((p, i) => Math.abs(p - p1000[i])));
  log(`${name}: MLServer vs the artifact max |dp| = ${gap.toExponential(2)} (calibration aside)`);
  return httpScenarios("MLServer", ml.proc.pid, ml.url, (n) => mlserverBody(x, n, F));
}

async function benchModel(name, first) {
  const artifact = ensureArtifact(name);
  const { modelDir } = artifact;
  const { parseModelCard } = await runtimeModule("artifact/model-card.js");
  const card = parseModelCard(JSON.parse(readFileSync(join(modelDir, "model.json"), "utf8")));
  const reference = JSON.parse(readFileSync(join(modelDir, "reference.json"), "utf8"));
  const rows = await benchRows(card, artifact.readable, reference, 1000);
  const F = card.features.encoded.length;
  const strings = card.schema.features.filter(
    (f) => f.type === "categorical" || f.type === "ordinal",
  ).length;
  const shape = `${card.features.raw.length} raw columns (${strings} strings) -> ${F} encoded features, ${card.onnx?.trees ?? "?"} trees`;
  log(`${name}: artifact ${card.digest.slice(0, 12)}: ${shape}`);
  const modelBytes = readFileSync(join(modelDir, "model.onnx"));
  const inProcess = await inProcessScenarios(card, modelBytes, rows, F);
  const x = inProcess.encoded.features;
  const featuresFile = join(cache, `${card.digest}.features-1000.f32`);
  writeFileSync(featuresFile, Buffer.from(x.buffer, x.byteOffset, x.byteLength));
  const { booster, probeFeatures } = ensureBooster(artifact);
  const xgbBatch = [];
  const servers = [];
  let results;
  let engine;
  let soaked;
  try {
    const runtime = await startRuntime(modelDir);
    servers.push(runtime.proc);
    engine = runtime.engine;
    log(`${name}: churn-runtime scores with ${engine?.engine}: ${engine?.reason}`);
    const v1 = (n) => JSON.stringify({ instances: rows.slice(0, n) });
    const check = await (await post(`${runtime.base}/v1/score`, v1(1000))).json();
    const p1000 = inProcess.encoded.probabilities;
    const gap = Math.max(...check.predictions.map((p, i) => Math.abs(p.probability - p1000[i])));
    log(`${name}: HTTP vs in-process onnxruntime max |dp| = ${gap.toExponential(2)}`);
    const scenarios = [
      ...inProcess.scenarios,
      ...httpScenarios("churn-runtime /v1", runtime.proc.pid, `${runtime.base}/v1/score`, v1),
      [
        "churn-runtime /v1 explain batch 1",
        () =>
          load("churn-runtime /v1 explain batch 1", runtime.proc.pid, {
            url: `${runtime.base}/v1/explain`,
            body: v1(1),
            connections: 8,
            rowsPerRequest: 1,
          }),
      ],
    ];
    scenarios.push(...(await v2Scenarios(name, card, runtime, rows)));
    if (!opts["skip-mlserver"]) {
      const ml = await startMlserver(booster);
      if (ml) servers.push(ml.proc);
      if (ml) scenarios.push(...(await mlserverScenarios(name, ml, x, F, p1000)));
    }
    scenarios.push(...xgboostScenarios(booster, probeFeatures, featuresFile, F, xgbBatch));
    results = await runRounds(name, scenarios);
    if (first && SOAK > 0) soaked = await soak(runtime, v1(100));
  } finally {
    for (const proc of servers) await stop(proc);
    await inProcess.close();
  }
  const xgbContribsBatch = xgbBatch.sort((a, b) => a - b)[Math.floor(xgbBatch.length / 2)];
  return { name, digest: card.digest, shape, engine, results, xgbContribsBatch, soak: soaked };
}

// ---------- report ----------
const f = (v, d = 0) =>
  v === undefined || Number.isNaN(v)
    ? "-"
    : v.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });

/** The targets as [label, value, check]; a null check is for information. */
function targets(results) {
  const by = (n) => results.find((r) => r.name === n);
  const ratio = (a, b, key) => (a && b ? a[key] / b[key] : undefined);
  const out = [];
  for (const n of BATCHES) {
    const ml = by(`MLServer batch ${n}`);
    for (const protocol of ["/v1", "/v2"]) {
      const rt = by(`churn-runtime ${protocol} batch ${n}`);
      if (!rt) continue;
      const vs = `${protocol} / MLServer`;
      out.push(
        [
          `batch ${n}: rows/s per core, ${vs} (target >= 1.5x)`,
          ratio(rt, ml, "rowsPerSecPerCore"),
          (v) => v >= 1.5,
        ],
        [`batch ${n}: p99, ${vs} (target <= 1x)`, ratio(rt, ml, "p99Ms"), (v) => v <= 1],
      );
    }
    out.push([
      `batch ${n}: in-process rows/s per core, compiled / onnxruntime`,
      ratio(
        by(`in-process compiled engine batch ${n}`),
        by(`in-process onnxruntime batch ${n}`),
        "rowsPerSecPerCore",
      ),
      null,
    ]);
  }
  out.push([
    "batch 1000: in-process compiled / xgboost inplace_predict, rows/s per core (target >= 1x)",
    ratio(
      by("in-process compiled engine batch 1000"),
      by("xgboost inplace_predict batch 1000"),
      "rowsPerSecPerCore",
    ),
    (v) => v >= 1,
  ]);
  const c1 = by("in-process compiled engine batch 1");
  out.push([
    "batch 1: in-process compiled engine, us per call (target < 30)",
    c1 && 1e6 / c1.reqPerSecPerCore,
    (v) => v < 30,
  ]);
  const ex = by("churn-runtime /v1 explain batch 1");
  const xg = by("xgboost pred_contribs 1 row (Python)");
  out.push([
    "explain batch 1: HTTP rows/s / xgboost pred_contribs in process (target >= 1.5x)",
    ratio(ex, xg, "rowsPerSec"),
    (v) => v >= 1.5,
  ]);
  out.push([
    "explain batch 1: HTTP rows/s per core / xgboost pred_contribs",
    ratio(ex, xg, "rowsPerSecPerCore"),
    null,
  ]);
  return out;
}

function table(model) {
  const lines = [
    `#### ${model.name}: ${model.shape}, artifact ${model.digest.slice(0, 12)}, engine ${model.engine?.engine ?? "?"}`,
    "",
    "| target | conns | req/s | rows/s | p50 ms | p99 ms | server cores | rows/s/core | rows/s by round |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ...model.results.map(
      (r) =>
        `| ${r.name} | ${r.connections || "-"} | ${f(r.reqPerSec)} | ${f(r.rowsPerSec)} | ${f(r.p50Ms, 3)} | ${f(r.p99Ms, 3)} | ${f(r.serverCores, 2)} | ${f(r.rowsPerSecPerCore)} | ${(r.rounds ?? []).join(" / ")} |`,
    ),
    "",
    "| ratio | value | target met |",
    "| --- | ---: | --- |",
  ];
  for (const [label, v, ok] of model.targets) {
    const met = v === undefined ? "n/a" : ok ? (ok(v) ? "yes" : "NO") : "";
    lines.push(`| ${label} | ${v === undefined ? "-" : f(v, 2)} | ${met} |`);
  }
  if (model.soak) {
    const s = model.soak;
    lines.push(
      "",
      `soak ${s.seconds}s at ${f(s.rowsPerSec)} rows/s (p99 ${f(s.p99Ms, 1)} ms): RSS ${f(s.rssBeforeMiB, 1)} MiB before, ${f(s.rssAt30sMiB, 1)} at 30 s, ${f(s.rssEndMiB, 1)} at the end, max ${f(s.rssMaxMiB, 1)}`,
    );
  }
  return lines.join("\n");
}

async function main() {
  ensureBuild();
  const load0 = loadavg();
  const models = [];
  for (const [i, name] of wanted.entries()) {
    const m = await benchModel(name, i === 0);
    m.targets = targets(m.results);
    models.push(m);
  }
  const load1 = loadavg();
  const cpu = cpus()[0]?.model ?? "?";
  const pin = PIN ? `servers on CPU ${SERVER_CPU}, load generator on CPU ${LOAD_CPU}` : "unpinned";
  const header = `churn-runtime benchmark: ${cpus().length} cores (${cpu}), ${pin}, ${SECONDS}s per measurement, median of ${ROUNDS} interleaved rounds, load average ${load0.map((v) => v.toFixed(2)).join(" ")} at the start and ${load1.map((v) => v.toFixed(2)).join(" ")} at the end`;
  process.stdout.write(`${header}\n\n${models.map(table).join("\n\n")}\n`);
  mkdirSync(join(root, "bench", "results"), { recursive: true });
  writeFileSync(
    join(root, "bench", "results", "runtime.json"),
    JSON.stringify(
      {
        header,
        seconds: SECONDS,
        rounds: ROUNDS,
        loadAverage: { start: load0, end: load1 },
        models: models.map((m) => ({
          ...m,
          targets: undefined,
          ratios: Object.fromEntries(m.targets.map(([n, v]) => [n, v])),
        })),
        at: new Date().toISOString(),
      },
      null,
      2,
    ),
  );
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`[bench] failed: ${err.stack ?? err}\n`);
    process.exit(1);
  },
);
