#!/usr/bin/env node
// Router benchmark (`npm run bench -- router`): what `churn-runtime route` costs in front of a
// serving runtime, against calling the variant directly, in one run. The servers (router and
// `serve` instances) are pinned to CPU 0 and this load generator (autocannon, in-process) to
// CPU 1, so "per core" means per core of serving machinery and the load never competes with it.
//   throughput: 16 connections, max rate; req/s, and req/s per core of server CPU actually used
//   latency:    1 connection (unloaded); p50 and p99 of each request, to the microsecond
// Scenarios: direct to the stable; through the router with only a stable; with a 50% canary
// (sticky by the id in every body, so the router parses it); with 100% mirroring (every request
// also scored by the canary, compared in the background). Each runs once per round, rounds
// interleaved; the median round is reported. Results: a table on stdout and
// bench/results/router.json. `--help` lists the options.
import { spawn, spawnSync } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { tsImport } from "tsx/esm/api";
import { ensureBuild, root } from "../../scripts/setup.mjs";
import { numericOptions } from "../numeric-options.mjs";

const SERVER_CPU = "0";
const LOAD_CPU = "1";
const log = (msg) => process.stderr.write(`[bench router] ${msg}\n`);

const USAGE = `usage: npm run bench -- router [--seconds N] [--rounds N]

Router overhead against calling a variant directly: servers on CPU ${SERVER_CPU}, load on CPU ${LOAD_CPU}.
  --seconds N   length of each measurement (default 3; a 1 s warm-up precedes each)
  --rounds N    rounds, scenarios interleaved; the median round is reported (default 2)
  --help`;
const opts = numericOptions(USAGE, { seconds: 3, rounds: 2 });
const SECONDS = Math.max(1, opts.seconds);
const ROUNDS = Math.max(1, opts.rounds);

// Pin this process (the load generator) to its core: run again under taskset.
if (process.env.CHURN_BENCH_PINNED !== "1") {
  if (cpus().length < 2) {
    log("needs two CPUs (one for the servers, one for the load)");
    process.exit(2);
  }
  const res = spawnSync(
    "taskset",
    ["-c", LOAD_CPU, process.execPath, ...process.execArgv, ...process.argv.slice(1)],
    { stdio: "inherit", env: { ...process.env, CHURN_BENCH_PINNED: "1" } },
  );
  if (res.error) {
    log(`cannot run taskset: ${res.error.message}`);
    process.exit(2);
  }
  process.exit(res.status ?? 1);
}

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Starts `churn-runtime <args>` from dist/ on the server core. */
function start(args, env = {}) {
  const proc = spawn(
    "taskset",
    ["-c", SERVER_CPU, process.execPath, join(root, "bin", "churn-runtime.js"), ...args],
    {
      env: { ...process.env, LOG_LEVEL: "error", ...env },
      stdio: ["ignore", "inherit", "inherit"],
    },
  );
  return proc;
}

async function until(what, check, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stop(proc) {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once("exit", r));
  proc.kill("SIGTERM");
  await exited;
}

/** CPU seconds used so far by a process and its descendants (taskset execs node in place). */
function cpuSeconds(pid) {
  let total = 0;
  const visit = (p) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      total += (Number(f[11]) + Number(f[12])) / 100;
      for (const t of readdirSync(`/proc/${p}/task`)) {
        const kids = readFileSync(`/proc/${p}/task/${t}/children`, "utf8").trim();
        if (kids) for (const k of kids.split(" ")) visit(Number(k));
      }
    } catch {
      // gone
    }
  };
  visit(pid);
  return total;
}

const percentile = (sorted, q) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/** One autocannon run; every response's latency kept (autocannon's own histogram is whole ms). */
async function measure({ url, connections, seconds, bodies, pids }) {
  const latencies = [];
  const cpu0 = pids.map(cpuSeconds);
  const t0 = performance.now();
  const instance = autocannon({
    url,
    connections,
    duration: seconds,
    // Prebuilt and cycled: building a body per request would make the load generator the limit.
    requests: bodies.map((body) => ({
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    })),
  });
  instance.on("response", (_client, status, _bytes, ms) => {
    if (status === 200) latencies.push(ms);
  });
  const r = await instance;
  const wall = (performance.now() - t0) / 1000;
  const cores = pids.map((p, i) => (cpuSeconds(p) - cpu0[i]) / wall);
  if (r.non2xx > 0 || r.errors > 0) log(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  latencies.sort((a, b) => a - b);
  const reqPerSec = latencies.length / wall;
  const serverCores = cores.reduce((a, b) => a + b, 0);
  return {
    reqPerSec,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    serverCores,
    reqPerSecPerCore: reqPerSec / Math.max(serverCores, 1e-9),
    // The first pid of a routed scenario is the router: its own CPU per request.
    routerUsPerRequest: pids.length > 1 ? ((cores[0] ?? 0) / reqPerSec) * 1e6 : undefined,
  };
}

/** One customer per request, 2,000 customers: sticky assignment sees a spread of keys. */
function requestBodies(rows, idColumn) {
  return Array.from({ length: 2000 }, (_, i) =>
    JSON.stringify({ instances: [{ ...rows[i % rows.length], [idColumn]: 20_000_000 + i }] }),
  );
}

/**
 * Every scenario in every mode, ROUNDS times over (rounds interleave scenarios, so drift in the
 * machine's load spreads over all of them): each scenario's measurements by "name | mode".
 */
async function runRounds(scenarios, modes, use, bodies) {
  const runs = new Map();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [name, canaryPart, url, pids] of scenarios) {
      await use(canaryPart);
      for (const [mode, connections] of modes) {
        // Mirroring's latency is the stable's by design; its cost shows in throughput.
        if (mode === "latency" && canaryPart?.mirrorPercent) continue;
        const key = `${name} | ${mode}`;
        log(`round ${round}/${ROUNDS}: ${key}`);
        // Warm-up: connections open, JIT warm, the router's upstream pool filled.
        const target = { url: `${url}/v1/score`, connections, bodies, pids };
        await measure({ ...target, seconds: 1 });
        const r = await measure({ ...target, seconds: SECONDS });
        if (!runs.has(key)) runs.set(key, []);
        runs.get(key).push(r);
      }
    }
  }
  return runs;
}

async function main() {
  ensureBuild();
  const { trainedArtifact } = await tsImport(
    "../../runtime/test-support/trained-artifact.ts",
    import.meta.url,
  );
  const fixture = trainedArtifact();
  const card = JSON.parse(readFileSync(join(fixture.modelDir, "model.json"), "utf8"));
  const reference = JSON.parse(readFileSync(join(fixture.modelDir, "reference.json"), "utf8"));
  const bodies = requestBodies(reference.rows, card.schema.idColumn);

  const scratch = mkdtempSync(join(tmpdir(), "churn-bench-router-"));
  const trafficPath = join(scratch, "traffic.json");
  const procs = [];
  try {
    const [pStable, pCanary, pRouter] = [await freePort(), await freePort(), await freePort()];
    const serveEnv = { CHURN_INTRA_OP_THREADS: "1", CHURN_EXPLAIN_WORKERS: "1" };
    const stable = start(
      ["serve", "--model-dir", fixture.modelDir, "--port", String(pStable)],
      serveEnv,
    );
    const canary = start(
      ["serve", "--model-dir", fixture.modelDir, "--port", String(pCanary)],
      serveEnv,
    );
    procs.push(stable, canary);
    const stableUrl = `http://127.0.0.1:${pStable}`;
    const canaryUrl = `http://127.0.0.1:${pCanary}`;
    const traffic = (canaryPart) => {
      writeFileSync(
        `${trafficPath}.tmp`,
        JSON.stringify({
          model: "bench",
          stable: { digest: fixture.digest, url: stableUrl },
          canary: canaryPart ? { digest: "c".repeat(64), url: canaryUrl, ...canaryPart } : null,
          stickyHeader: null,
        }),
      );
      renameSync(`${trafficPath}.tmp`, trafficPath);
    };
    traffic(null);
    const router = start(["route", "--traffic-file", trafficPath, "--port", String(pRouter)]);
    procs.push(router);
    const routerUrl = `http://127.0.0.1:${pRouter}`;
    for (const url of [stableUrl, canaryUrl, routerUrl]) {
      await until(`${url}/readyz`, async () => (await fetch(`${url}/readyz`)).status === 200);
    }
    /** Applies a traffic config and waits until the router reports it. */
    const use = async (canaryPart) => {
      traffic(canaryPart);
      await until("the traffic config", async () => {
        const r = await (await fetch(`${routerUrl}/readyz`)).json();
        return (
          r.ready &&
          (r.canary === null) === (canaryPart === null) &&
          r.weight === (canaryPart?.weight ?? 0) &&
          r.mirrorPercent === (canaryPart?.mirrorPercent ?? 0)
        );
      });
    };

    const scenarios = [
      ["direct to the variant", null, stableUrl, [stable.pid]],
      ["router, stable only", null, routerUrl, [router.pid, stable.pid]],
      [
        "router, 50% canary (sticky by id)",
        { weight: 50, mirrorPercent: 0 },
        routerUrl,
        [router.pid, stable.pid, canary.pid],
      ],
      [
        "router, 100% mirrored",
        { weight: 0, mirrorPercent: 100 },
        routerUrl,
        [router.pid, stable.pid, canary.pid],
      ],
    ];
    const modes = [
      ["throughput", 16],
      ["latency", 1],
    ];
    const runs = await runRounds(scenarios, modes, use, bodies);
    const results = new Map();
    for (const [key, rs] of runs) {
      rs.sort((a, b) => a.reqPerSec - b.reqPerSec);
      results.set(key, {
        ...rs[Math.floor(rs.length / 2)],
        rounds: rs.map((r) => Math.round(r.reqPerSec)),
      });
    }
    report(results);
  } finally {
    // The router first: stopping a variant under it would fail whatever it still had in flight.
    for (const p of procs.reverse()) await stop(p);
    rmSync(scratch, { recursive: true, force: true });
  }
}

function report(results) {
  const f = (v, d = 0) =>
    v === undefined
      ? "-"
      : v.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
  const lines = [
    "| scenario | mode | req/s | server cores | req/s per core | p50 ms | p99 ms | router CPU µs/req | req/s by round |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
  ];
  for (const [key, r] of results) {
    const [name, mode] = key.split(" | ");
    lines.push(
      `| ${name} | ${mode} | ${f(r.reqPerSec)} | ${f(r.serverCores, 2)} | ${f(r.reqPerSecPerCore)} | ${f(r.p50Ms, 3)} | ${f(r.p99Ms, 3)} | ${f(r.routerUsPerRequest)} | ${r.rounds.join(" / ")} |`,
    );
  }
  const get = (name, mode) => results.get(`${name} | ${mode}`);
  const direct = get("direct to the variant", "throughput");
  const directLat = get("direct to the variant", "latency");
  const ratios = [];
  if (direct) {
    ratios.push([
      "direct: the variant's CPU per request, µs",
      f((direct.serverCores / direct.reqPerSec) * 1e6),
    ]);
  }
  for (const name of [
    "router, stable only",
    "router, 50% canary (sticky by id)",
    "router, 100% mirrored",
  ]) {
    const t = get(name, "throughput");
    const l = get(name, "latency");
    if (t && direct) {
      ratios.push([
        `${name}: req/s per core / direct`,
        f(t.reqPerSecPerCore / direct.reqPerSecPerCore, 2),
      ]);
      ratios.push([`${name}: the router's own CPU per request, µs`, f(t.routerUsPerRequest)]);
    }
    if (l && directLat) {
      ratios.push([`${name}: added p50 (unloaded), ms`, f(l.p50Ms - directLat.p50Ms, 3)]);
      ratios.push([`${name}: added p99 (unloaded), ms`, f(l.p99Ms - directLat.p99Ms, 3)]);
    }
  }
  process.stdout.write(
    `\nRouter overhead (servers on CPU ${SERVER_CPU}, load on CPU ${LOAD_CPU}; ${SECONDS} s per run, median of ${ROUNDS} rounds)\n\n${lines.join("\n")}\n\n${ratios
      .map(([k, v]) => `- ${k}: ${v}`)
      .join("\n")}\n`,
  );
  mkdirSync(join(root, "bench", "results"), { recursive: true });
  writeFileSync(
    join(root, "bench", "results", "router.json"),
    `${JSON.stringify({ seconds: SECONDS, rounds: ROUNDS, results: Object.fromEntries(results), ratios: Object.fromEntries(ratios) }, null, 2)}\n`,
  );
}

main().catch((err) => {
  log(err.stack ?? String(err));
  process.exit(1);
});
