#!/usr/bin/env node
// Runtime benchmark (one command: `npm run bench:runtime`). Same artifact, same machine, one run:
//   (a) churn-runtime over HTTP, (b) MLServer + mlserver-xgboost serving the identical booster,
//   (c) the runtime's own scorer (OnnxScorer: raw rows to tensors, one onnxruntime run) in this
//   process, no HTTP: the floor; plus SHAP rows/s against xgboost's own pred_contribs called one
//   row at a time from Python. Rows come from the synthetic CSV through the runtime's own reader
//   (FeatureSource), so every target sees the rows the server would. Load comes from autocannon
//   on loopback; every loop is bounded in time. Results: a table on stdout and
//   bench/results/runtime.json.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { ensureBuild, root, venvPython } from "../../scripts/setup.mjs";

const USAGE = `usage: npm run bench:runtime -- [options]

options:
  --seconds N        per measurement (default 5, at least 2)
  --rounds N         rounds; each scenario reports its median round (default 3)
  --model-dir DIR    benchmark this artifact (default: train one on synthetic data, cached)
  --skip-mlserver    leave out MLServer (no bench venv needed)
  --help`;

const cache = join(root, ".cache", "bench-runtime");
const benchVenv = join(root, ".cache", "bench-venv");
const spec = join(root, "trainer", "examples", "bank-churn.yaml");
let opts;
try {
  ({ values: opts } = parseArgs({
    options: {
      seconds: { type: "string", default: "5" },
      rounds: { type: "string", default: "3" },
      "model-dir": { type: "string" },
      "skip-mlserver": { type: "boolean", default: false },
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
const SECONDS = Math.max(2, Number(opts.seconds));
const ROUNDS = Math.max(1, Number(opts.rounds));
const log = (msg) => process.stderr.write(`[bench] ${msg}\n`);
const sh = (cmd, args, options = {}) =>
  execFileSync(cmd, args, { cwd: root, stdio: ["ignore", "pipe", "inherit"], ...options });

// ---------- set-up (cached) ----------
function ensureArtifact() {
  if (opts["model-dir"]) return { modelDir: resolve(opts["model-dir"]), data: undefined };
  mkdirSync(cache, { recursive: true });
  const data = join(cache, "data.csv");
  const store = join(cache, "store");
  if (!existsSync(data)) {
    log("synthesising 10000 rows");
    sh(venvPython, [
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
  }
  const found = () =>
    existsSync(store) ? readdirSync(store).filter((d) => /^[0-9a-f]{64}$/.test(d)) : [];
  if (found().length === 0) {
    log("training the benchmark artifact");
    sh(venvPython, [
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
  const dirs = found().sort(
    (a, b) => statSync(join(store, b)).mtimeMs - statSync(join(store, a)).mtimeMs,
  );
  return { modelDir: join(store, dirs[0]), data };
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

function ensureBooster(modelDir, data) {
  const own = join(modelDir, "model.ubj");
  const digest = JSON.parse(readFileSync(join(modelDir, "model.json"), "utf8")).digest;
  const out = join(cache, digest, "model.ubj");
  if (existsSync(out))
    return {
      booster: existsSync(own) ? own : out,
      probeFeatures: out.replace(/\.ubj$/, ".probe-features.npy"),
    };
  if (!data) throw new Error("--model-dir without model.ubj: the bench cannot rebuild its booster");
  log("reproducing the artifact's booster with the trainer's code path");
  sh(venvPython, [
    join(root, "bench/runtime/booster.py"),
    "--spec",
    spec,
    "--data",
    data,
    "--model-dir",
    modelDir,
    "--output",
    out,
  ]);
  return {
    booster: existsSync(own) ? own : out,
    probeFeatures: out.replace(/\.ubj$/, ".probe-features.npy"),
  };
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

/** Runs autocannon against one endpoint and measures the server's CPU over the run. */
async function load(name, pid, { url, body, connections, rowsPerRequest }) {
  const cpu0 = treeCpuSeconds(pid);
  const t0 = performance.now();
  const r = await autocannon({
    url,
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
    connections,
    duration: SECONDS,
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

/** Times an async call in a loop for SECONDS; per-call latency percentiles. */
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
  const cores = cpuSeconds / total;
  return {
    name,
    connections: 0,
    rowsPerRequest: rowsPerCall,
    reqPerSec,
    rowsPerSec: reqPerSec * rowsPerCall,
    p50Ms: percentile(lat, 0.5),
    p99Ms: percentile(lat, 0.99),
    serverCores: cores,
    reqPerSecPerCore: lat.length / cpuSeconds,
    rowsPerSecPerCore: (lat.length * rowsPerCall) / cpuSeconds,
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

// ---------- main ----------
async function main() {
  const { modelDir, data } = ensureArtifact();
  ensureBuild();
  const { parseModelCard } = await runtimeModule("artifact/model-card.js");
  const card = parseModelCard(JSON.parse(readFileSync(join(modelDir, "model.json"), "utf8")));
  const reference = JSON.parse(readFileSync(join(modelDir, "reference.json"), "utf8"));
  const rows = await benchRows(card, data, reference, 1000);
  const F = card.features.encoded.length;
  log(
    `artifact ${card.digest.slice(0, 12)}: ${card.features.raw.length} raw -> ${F} encoded features, ${rows.length} rows`,
  );
  const results = [];
  const xgbBatch = [];

  // (c) the floor: the runtime's own scorer in this process, no HTTP, one intra-op thread.
  const modelBytes = readFileSync(join(modelDir, "model.onnx"));
  const { OnnxScorer } = await runtimeModule("model/onnx-scorer.js");
  const scorer = await OnnxScorer.create(modelBytes, card, { intraOpThreads: 1 });
  const rows1 = rows.slice(0, 1);
  const encoded = await scorer.score(rows, true);
  const x1000 = encoded.features;
  const p1000 = encoded.probabilities;
  // In-process TreeSHAP, one thread: the explanation floor.
  const { readTreeEnsemble } = await runtimeModule("explain/onnx-trees.js");
  const { TreeExplainer } = await runtimeModule("explain/tree-shap.js");
  const explainer = new TreeExplainer(readTreeEnsemble(modelBytes), F);
  const phi = new Float64Array(F + 1);
  let shapRow = 0;

  const { booster, probeFeatures } = ensureBooster(modelDir, data);
  const servers = [];
  try {
    // (a) churn-runtime over HTTP.
    const port = await freePort();
    const runtime = spawn(process.execPath, [join(root, "bin/churn-runtime.js"), "serve"], {
      env: {
        ...process.env,
        CHURN_MODEL_DIR: modelDir,
        CHURN_RUNTIME_PORT: String(port),
        CHURN_RUNTIME_HOST: "127.0.0.1",
        CHURN_MAX_BATCH: "1000",
        CHURN_MAX_EXPLAIN_ROWS: "1000",
        LOG_LEVEL: "error",
      },
      stdio: ["ignore", "inherit", "inherit"],
    });
    servers.push(runtime);
    const base = `http://127.0.0.1:${port}`;
    await waitFor(`${base}/readyz`, (s) => s === 200, 120_000, runtime);
    const b1 = JSON.stringify({ instances: rows.slice(0, 1) });
    const b1000 = JSON.stringify({ instances: rows });
    const check = await (
      await fetch(`${base}/v1/score`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: b1000,
      })
    ).json();
    const gap = Math.max(...check.predictions.map((p, i) => Math.abs(p.probability - p1000[i])));
    log(`runtime vs in-process max |dp| = ${gap.toExponential(2)}`);

    // (b) MLServer + mlserver-xgboost on the identical booster; input is the encoded vector.
    let ml;
    let mlUrl;
    if (!opts["skip-mlserver"]) {
      ensureBenchVenv();
      const dir = join(cache, "mlserver");
      mkdirSync(join(dir, "churn"), { recursive: true });
      const [httpPort, grpcPort, metricsPort] = [
        await freePort(),
        await freePort(),
        await freePort(),
      ];
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
      // One inference thread, like churn-runtime's onnxruntime session: xgboost's OpenMP pool
      // otherwise spins against the load generator on this 2-core machine.
      ml = spawn(join(benchVenv, "bin", "mlserver"), ["start", dir], {
        env: { ...process.env, OMP_NUM_THREADS: "1" },
        cwd: dir,
        stdio: ["ignore", "ignore", "pipe"],
      });
      servers.push(ml);
      let mlErr = "";
      ml.stderr.on("data", (c) => {
        mlErr = (mlErr + c.toString()).slice(-4000);
      });
      try {
        await waitFor(
          `http://127.0.0.1:${httpPort}/v2/models/churn/ready`,
          (s) => s === 200,
          180_000,
          ml,
        );
        mlUrl = `http://127.0.0.1:${httpPort}/v2/models/churn/infer`;
      } catch (err) {
        log(`MLServer failed: ${err.message}\n${mlErr}`);
      }
    }
    const v2 = (n) =>
      JSON.stringify({
        inputs: [
          {
            name: "input-0",
            shape: [n, F],
            datatype: "FP32",
            data: Array.from(x1000.subarray(0, n * F), (v) => (Number.isNaN(v) ? null : v)),
          },
        ],
      });
    if (mlUrl) {
      const res = await (
        await fetch(mlUrl, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: v2(1000),
        })
      ).json();
      const out = res.outputs?.[0]?.data ?? [];
      const probs = out.length === 2000 ? out.filter((_, i) => i % 2 === 1) : out;
      const mlGap = Math.max(...probs.map((p, i) => Math.abs(p - p1000[i])));
      log(`MLServer vs churn model max |dp| = ${mlGap.toExponential(2)} (${out.length} outputs)`);
    }

    // Every scenario runs once per round, rounds interleaved, so a noisy neighbour on this
    // shared machine hits all targets alike; each scenario reports its median round.
    const scenarios = [
      [
        "in-process scorer batch 1",
        () => timeLoop("in-process scorer batch 1", 1, () => scorer.score(rows1)),
      ],
      [
        "in-process scorer batch 1000",
        () => timeLoop("in-process scorer batch 1000", 1000, () => scorer.score(rows)),
      ],
      [
        "in-process TreeSHAP 1 row",
        () =>
          timeLoop("in-process TreeSHAP 1 row", 1, async () => {
            const r = shapRow++ % 1000;
            explainer.explainRow(x1000.subarray(r * F, (r + 1) * F), phi);
          }),
      ],
      [
        "churn-runtime batch 1",
        () =>
          load("churn-runtime batch 1", runtime.pid, {
            url: `${base}/v1/score`,
            body: b1,
            connections: 16,
            rowsPerRequest: 1,
          }),
      ],
      [
        "churn-runtime batch 1000",
        () =>
          load("churn-runtime batch 1000", runtime.pid, {
            url: `${base}/v1/score`,
            body: b1000,
            connections: 4,
            rowsPerRequest: 1000,
          }),
      ],
      [
        "churn-runtime batch 1000 (1 conn)",
        () =>
          load("churn-runtime batch 1000 (1 conn)", runtime.pid, {
            url: `${base}/v1/score`,
            body: b1000,
            connections: 1,
            rowsPerRequest: 1000,
          }),
      ],
      [
        "churn-runtime explain 1 row",
        () =>
          load("churn-runtime explain 1 row", runtime.pid, {
            url: `${base}/v1/explain`,
            body: b1,
            connections: 8,
            rowsPerRequest: 1,
          }),
      ],
      [
        "churn-runtime explain 100 rows",
        () =>
          load("churn-runtime explain 100 rows", runtime.pid, {
            url: `${base}/v1/explain`,
            body: JSON.stringify({ instances: rows.slice(0, 100) }),
            connections: 2,
            rowsPerRequest: 100,
          }),
      ],
    ];
    if (mlUrl) {
      scenarios.push(
        [
          "MLServer batch 1",
          () =>
            load("MLServer batch 1", ml.pid, {
              url: mlUrl,
              body: v2(1),
              connections: 16,
              rowsPerRequest: 1,
            }),
        ],
        [
          "MLServer batch 1000",
          () =>
            load("MLServer batch 1000", ml.pid, {
              url: mlUrl,
              body: v2(1000),
              connections: 4,
              rowsPerRequest: 1000,
            }),
        ],
        [
          "MLServer batch 1000 (1 conn)",
          () =>
            load("MLServer batch 1000 (1 conn)", ml.pid, {
              url: mlUrl,
              body: v2(1000),
              connections: 1,
              rowsPerRequest: 1000,
            }),
        ],
      );
    }
    // xgboost's own SHAP, one row per call from Python (one thread).
    scenarios.push([
      "xgboost pred_contribs 1 row (Python)",
      async () => {
        const out = JSON.parse(
          sh(
            venvPython,
            [
              join(root, "bench/runtime/xgb_contribs.py"),
              "--booster",
              booster,
              "--features",
              probeFeatures,
              "--seconds",
              String(SECONDS),
            ],
            {
              env: { ...process.env, OMP_NUM_THREADS: "1" },
            },
          ).toString(),
        );
        xgbBatch.push(out.batchRowsPerSec);
        return {
          name: "xgboost pred_contribs 1 row (Python)",
          connections: 0,
          rowsPerRequest: 1,
          reqPerSec: out.perRowRowsPerSec,
          rowsPerSec: out.perRowRowsPerSec,
          p50Ms: out.perRowP50Ms,
          p99Ms: out.perRowP99Ms,
          serverCores: 1,
          reqPerSecPerCore: out.perRowRowsPerSec,
          rowsPerSecPerCore: out.perRowRowsPerSec,
        };
      },
    ]);
    const rounds = new Map(scenarios.map(([name]) => [name, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [name, run] of scenarios) {
        log(`round ${round}/${ROUNDS}: ${name}`);
        rounds.get(name).push(await run());
      }
    }
    for (const [, runs] of rounds) {
      runs.sort((a, b) => a.rowsPerSec - b.rowsPerSec);
      results.push({
        ...runs[Math.floor(runs.length / 2)],
        rounds: runs.map((r) => Math.round(r.rowsPerSec)),
      });
    }
  } finally {
    for (const proc of servers) await stop(proc);
    await scorer.close();
  }
  const xgbOut = {
    batchRowsPerSec: xgbBatch.sort((a, b) => a - b)[Math.floor(xgbBatch.length / 2)],
  };

  // ---------- report ----------
  const by = (n) => results.find((r) => r.name === n);
  const f = (v, d = 0) =>
    v === undefined
      ? "-"
      : v.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
  const lines = [
    `| target | conns | req/s | rows/s | p50 ms | p99 ms | server cores | req/s/core | rows/s/core | rows/s by round |`,
    `| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |`,
    ...results.map(
      (r) =>
        `| ${r.name} | ${r.connections || "-"} | ${f(r.reqPerSec)} | ${f(r.rowsPerSec)} | ${f(r.p50Ms, 3)} | ${f(r.p99Ms, 3)} | ${f(r.serverCores, 2)} | ${f(r.reqPerSecPerCore)} | ${f(r.rowsPerSecPerCore)} | ${(r.rounds ?? []).join(" / ")} |`,
    ),
  ];
  const ratio = (a, b, key) => (a && b ? a[key] / b[key] : undefined);
  const rt1 = by("churn-runtime batch 1");
  const ml1 = by("MLServer batch 1");
  const rt1k1 = by("churn-runtime batch 1000 (1 conn)");
  const ip1k = by("in-process scorer batch 1000");
  const ex1 = by("churn-runtime explain 1 row");
  const xg = by("xgboost pred_contribs 1 row (Python)");
  // [label, value, check]: a check marks one of the issue's targets; null is for information.
  const targets = [
    [
      "batch-1 req/s: churn-runtime / MLServer (target >= 5x)",
      ratio(rt1, ml1, "reqPerSec"),
      (v) => v >= 5,
    ],
    ["batch-1 req/s per core: churn-runtime / MLServer", ratio(rt1, ml1, "reqPerSecPerCore"), null],
    [
      "batch-1000 rows/s: churn-runtime / MLServer",
      ratio(by("churn-runtime batch 1000"), by("MLServer batch 1000"), "rowsPerSec"),
      null,
    ],
    [
      "batch-1000 CPU per row: HTTP / in-process (target <= 3x)",
      ratio(ip1k, by("churn-runtime batch 1000"), "rowsPerSecPerCore"),
      (v) => v <= 3,
    ],
    [
      "batch-1000 CPU per row: HTTP 1 conn / in-process",
      ratio(ip1k, rt1k1, "rowsPerSecPerCore"),
      null,
    ],
    ["batch-1000 p50 latency: HTTP 1 conn / in-process", ratio(rt1k1, ip1k, "p50Ms"), null],
    [
      "explain rows/s, 1 row per request: churn-runtime / xgboost per row (target >= 1x)",
      ratio(ex1, xg, "rowsPerSec"),
      (v) => v >= 1,
    ],
    [
      "explain rows/s per core: churn-runtime / xgboost per row",
      ratio(ex1, xg, "rowsPerSecPerCore"),
      null,
    ],
    [
      "TreeSHAP per row in-process / xgboost per row",
      ratio(by("in-process TreeSHAP 1 row"), xg, "rowsPerSec"),
      null,
    ],
  ];
  lines.push("", "| ratio | value | target met |", "| --- | ---: | --- |");
  for (const [name, v, ok] of targets) {
    const met = v === undefined ? "n/a" : ok ? (ok(v) ? "yes" : "NO") : "";
    lines.push(`| ${name} | ${v === undefined ? "-" : `${f(v, 2)}x`} | ${met} |`);
  }
  const cpu = cpus()[0]?.model ?? "?";
  const header = `churn-runtime benchmark: ${cpus().length} cores (${cpu}), ${SECONDS}s per measurement, median of ${ROUNDS} interleaved rounds, artifact ${card.digest.slice(0, 12)}, xgboost batch pred_contribs ${f(xgbOut.batchRowsPerSec)} rows/s`;
  process.stdout.write(`${header}\n\n${lines.join("\n")}\n`);
  mkdirSync(join(root, "bench", "results"), { recursive: true });
  writeFileSync(
    join(root, "bench", "results", "runtime.json"),
    JSON.stringify(
      {
        header,
        seconds: SECONDS,
        digest: card.digest,
        results,
        ratios: Object.fromEntries(targets.map(([n, v]) => [n, v])),
        xgboost: xgbOut,
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
