#!/usr/bin/env node
// `npm run demo`: the whole loop. By default on the local cluster (real Kubernetes built from the
// Go module proxy, pods as processes; built on first use, then reused): install the CRDs, run
// the operator, apply a TrainingRun and a ChurnModel on synthetic customers (or --data FILE),
// wait, score a few customers with explanations, and show `kubectl get tr,chm`.
//   --context NAME   the same on a real cluster from your kubeconfig (needs --data-url and
//                    images your cluster can pull; see scripts/demo/operator-demo.ts)
//   --local          no Kubernetes at all: the trainer and the inference server as processes
// Plain Node with no dependencies: it runs the set-up before anything else exists.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { root, setup, venvPython } from "./setup.mjs";

const { values: opts } = parseArgs({
  options: {
    data: { type: "string" },
    "data-url": { type: "string" },
    context: { type: "string" },
    local: { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
    "bad-canary": { type: "boolean", default: false },
    "trainer-image": { type: "string" },
    "runtime-image": { type: "string" },
    "operator-image": { type: "string" },
    rows: { type: "string", default: "10000" },
    port: { type: "string", default: "18080" },
    help: { type: "boolean", default: false },
  },
});
if (opts.help) {
  process.stdout.write(
    "usage: npm run demo -- [--data CSV] [--rows N] [--keep] [--bad-canary]\n" +
      "       npm run demo -- --context NAME --data-url URL [--trainer-image IMG --runtime-image IMG]\n" +
      "       npm run demo -- --local [--data CSV] [--rows N] [--port N]\n" +
      "  --data     a churn CSV shaped like the bank seed (default: synthetic customers)\n" +
      "  --keep     leave the operator running afterwards (Ctrl-C stops it)\n" +
      "  --bad-canary  roll out a second model with skewed scores: watch it rolled back\n" +
      "  --context  use this kubeconfig context instead of the local cluster\n" +
      "  --local    skip Kubernetes: train and serve as local processes\n",
  );
  process.exit(0);
}

const work = join(root, ".demo");
const say = (msg) => process.stdout.write(`\n== ${msg}\n`);

/** Runs a command to completion, streaming its output; throws naming the command on failure. */
function step(cmd, args) {
  const res = spawnSync(cmd, args, { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (exit ${res.status})`);
  return res.stdout.toString();
}

async function waitReady(url, child, deadlineMs) {
  const until = Date.now() + deadlineMs;
  let last = "";
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`runtime exited with ${child.exitCode}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
      last = await res.text();
    } catch (err) {
      last = err.message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`runtime not ready after ${deadlineMs} ms: ${last}`);
}

/** "Age=52 +1.10, NumOfProducts=1 +0.40 | IsActiveMember=1 -0.65": the strongest SHAP drivers. */
function fmtDrivers(row) {
  const fmt = (d) =>
    `${d.feature}=${d.value} ${d.contribution >= 0 ? "+" : ""}${d.contribution.toFixed(2)}`;
  const up = (row.explanation?.topPositive ?? []).slice(0, 2).map(fmt).join(", ");
  const down = (row.explanation?.topNegative ?? []).slice(0, 2).map(fmt).join(", ");
  return `${up} | ${down}`;
}

/** The no-Kubernetes path: trainer and runtime as plain processes. */
async function localDemo() {
  say("set-up (npm ci, .venv, build: skipped when up to date)");
  setup({ rerun: "npm run demo -- --local" });
  mkdirSync(work, { recursive: true });
  let data = opts.data ? resolve(opts.data) : join(work, `synthetic-${opts.rows}.csv`);
  if (!opts.data && !existsSync(data)) {
    say(`generating ${opts.rows} synthetic bank customers`);
    step(
      venvPython,
      ["-m", "churn_trainer", "synth", "--rows", opts.rows, "--seed", "1"].concat([
        "--output",
        data,
      ]),
    );
  }
  data = resolve(data);

  say(`training on ${data.replace(`${root}/`, "")}`);
  const store = join(work, "models");
  const out = step(venvPython, [
    "-m",
    "churn_trainer",
    "train",
    "--spec",
    join(root, "trainer", "examples", "bank-churn.yaml"),
    "--data",
    data,
    "--output",
    store,
  ]);
  const summary = JSON.parse(
    out
      .trim()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .pop(),
  );
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  const modelDir = join(store, summary.digest);

  say(`serving model ${summary.digest.slice(0, 12)} on 127.0.0.1:${opts.port}`);
  const server = spawn(
    process.execPath,
    [
      join(root, "bin", "churn-runtime.js"),
      "serve",
      "--model-dir",
      modelDir,
      "--port",
      opts.port,
      "--features",
      data,
    ],
    { cwd: root, stdio: ["ignore", "ignore", "inherit"] },
  );
  const base = `http://127.0.0.1:${opts.port}`;
  try {
    await waitReady(`${base}/readyz`, server, 60_000);
    // The server reads the CSV itself (--features: typed by the model's schema, keyed by its id
    // column); the demo only needs the first five ids.
    const card = await (await fetch(`${base}/v1/model`)).json();
    const lines = readFileSync(data, "utf8").split(/\r?\n/, 6);
    const idAt = lines[0].split(",").indexOf(card.schema.idColumn);
    const ids = lines.slice(1).map((line) => line.split(",")[idAt]);
    say("scoring 5 customers by id with explanations (GET /v1/customers/:id/score?explain=true)");
    const predictions = [];
    for (const id of ids) {
      const res = await fetch(`${base}/v1/customers/${encodeURIComponent(id)}/score?explain=true`);
      const body = await res.json();
      if (!res.ok)
        throw new Error(`scoring customer ${id} failed: ${res.status} ${JSON.stringify(body)}`);
      predictions.push(body.prediction);
    }
    for (const [i, row] of predictions.entries()) {
      const p = (row.probability * 100).toFixed(1).padStart(5);
      process.stdout.write(
        `  customer ${ids[i]}: churn ${p}%  ${row.label ? "AT RISK" : "ok     "}  drivers: ${fmtDrivers(row)}\n`,
      );
    }
  } finally {
    server.kill("SIGTERM");
  }
}

/** Runs a command with inherited output; throws naming the command on failure. */
function runInherit(cmd, args, env = {}) {
  const res = spawnSync(cmd, args, {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, ...env },
  });
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (exit ${res.status})`);
}

/** A kubeconfig holding only the chosen context, so every tool the demo runs uses it. */
function contextKubeconfig(context) {
  const file = join(work, `kubeconfig-${context.replace(/[^\w.-]/g, "_")}`);
  const res = spawnSync(
    "kubectl",
    ["config", "view", "--raw", "--minify", "--flatten", `--context=${context}`],
    {
      encoding: "utf8",
    },
  );
  if (res.error) throw new Error(`--context needs kubectl on PATH: ${res.error.message}`);
  if (res.status !== 0)
    throw new Error(`kubectl config view --context=${context}: ${res.stderr.trim()}`);
  writeFileSync(file, res.stdout, { mode: 0o600 });
  return file;
}

/** Another cluster, from kubeconfig context --context: the data comes from --data-url. */
function contextTarget() {
  if (!opts["data-url"])
    throw new Error("--context needs --data-url (the cluster cannot read this machine's files)");
  const kubeconfig = contextKubeconfig(opts.context);
  const args = ["--data-url", opts["data-url"], "--existing-storage"];
  for (const k of ["trainer-image", "runtime-image"]) if (opts[k]) args.push(`--${k}`, opts[k]);
  say(`using kubeconfig context ${opts.context}`);
  return { kubeconfig, args };
}

/** The local cluster, started here: the data is --data's file or --rows synthetic customers. */
function localTarget(tsx) {
  say("starting the local cluster");
  runInherit(tsx, ["cluster/cli.ts", "up"]);
  const kubeconfig = join(root, ".cluster", "kubeconfig");
  return { kubeconfig, args: opts.data ? ["--data", resolve(opts.data)] : ["--rows", opts.rows] };
}

/** The main path: the operator on Kubernetes (the local cluster unless --context is given). */
async function clusterDemo() {
  say("set-up (preflight, npm ci, .venv, build, cluster binaries: skipped when up to date)");
  // Another cluster from --context needs nothing of this machine's; the local one needs root,
  // its tools and its binaries, checked before anything starts.
  setup(
    opts.context
      ? { rerun: "npm run demo" }
      : { cluster: true, goBuilds: ["etcd", "k8s"], rerun: "npm run demo" },
  );
  mkdirSync(work, { recursive: true });
  const tsx = join(root, "node_modules", ".bin", "tsx");
  const { kubeconfig, args } = opts.context ? contextTarget() : localTarget(tsx);
  if (opts.keep) args.push("--keep");
  if (opts["bad-canary"]) args.push("--bad-canary");
  runInherit(tsx, ["scripts/demo/operator-demo.ts", ...args], { KUBECONFIG: kubeconfig });
  if (!opts.context) {
    process.stdout.write(
      "\nThe local cluster is still up: `npm run cluster -- kubectl get tr,chm,pods -n churn-demo`;\n" +
        "stop it with `npm run cluster -- down`.\n",
    );
  }
}

(opts.local ? localDemo() : clusterDemo()).catch((err) => {
  process.stderr.write(`demo failed: ${err.message}\n`);
  process.exit(1);
});
