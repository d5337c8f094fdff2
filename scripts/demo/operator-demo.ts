// The operator's part of the demo, end to end on a cluster with a process node (the local
// cluster): install CRDs and RBAC, run the operator with exactly config/rbac's rights, train
// the example TrainingRun on a CSV (given, or synthetic from the trainer), serve it with the
// example ChurnModel, score a few customers with explanations, and show `kubectl get tr,chm`.
//
//   KUBECONFIG=.cluster/kubeconfig npx tsx scripts/demo/operator-demo.ts [--data CSV] [--rows N]
//       [--namespace churn-demo] [--keep]
//
// --keep leaves the operator running and the objects in place (Ctrl-C stops the operator).
// On another cluster (no process node: no host directories to mount), pass
//   --data-url URL --existing-storage [--trainer-image IMG --runtime-image IMG]
// where a PVC named churn-models already exists in the namespace (ReadWriteMany, or every pod
// on one node). Scoring goes through the apiserver's Service proxy, which works on any cluster.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { parse } from "yaml";
import { cachedBinaries } from "../../cluster/index.js";
import { waitFor } from "../../cluster/testing/wait-for.js";
import type { ChurnModel } from "../../operator/src/api/churn-model.js";
import type { TrainingRun } from "../../operator/src/api/training-run.js";
import { churnModelType } from "../../operator/src/controllers/shared/custom-resources.js";
import type { KubeClient } from "../../operator/src/kube/kube-client.js";
import { Resources } from "../../operator/src/kube/resources.js";
import {
  prepareOperatorNamespace,
  repoRoot,
} from "../../test/integration/operator/support/install.js";
import { adminClient, apply } from "../../test/integration/operator/support/kube.js";
import {
  namespacedOperator,
  type OperatorProcess,
} from "../../test/integration/operator/support/operator-process.js";
import {
  waitForModelReady,
  waitForRunFinished,
} from "../../test/integration/operator/support/status.js";
import { synthesize } from "../../test/integration/operator/support/synthetic-customers.js";

interface Options {
  data?: string;
  dataUrl?: string;
  existingStorage: boolean;
  images: string[];
  rows: number;
  namespace: string;
  keep: boolean;
  /** Roll out a model with skewed scores (it passes its training gates) to see a rollback. */
  badCanary: boolean;
}

/** What each flag does to the options; `value()` takes the argument that follows it. */
const FLAGS = new Map<string, (o: Options, value: () => string, flag: string) => void>([
  ["--data", (o, value) => (o.data = resolve(value()))],
  ["--rows", (o, value) => (o.rows = Number(value()))],
  ["--namespace", (o, value) => (o.namespace = value())],
  ["--keep", (o) => (o.keep = true)],
  ["--bad-canary", (o) => (o.badCanary = true)],
  ["--data-url", (o, value) => (o.dataUrl = value())],
  ["--existing-storage", (o) => (o.existingStorage = true)],
  ["--trainer-image", (o, value, flag) => o.images.push(flag, value())],
  ["--runtime-image", (o, value, flag) => o.images.push(flag, value())],
]);

/** Rejects option combinations the demo cannot run with. */
function checkOptions(o: Options): void {
  if (!Number.isInteger(o.rows) || o.rows < 1000)
    throw new Error("--rows must be an integer >= 1000");
  if (o.data && !existsSync(o.data)) throw new Error(`--data ${o.data}: no such file`);
  if (o.data && o.dataUrl) throw new Error("give --data or --data-url, not both");
  if (o.existingStorage && !o.dataUrl) {
    throw new Error(
      "--existing-storage needs --data-url (no host directory to mount the CSV from)",
    );
  }
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    rows: 10_000,
    namespace: "churn-demo",
    keep: false,
    badCanary: false,
    existingStorage: false,
    images: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const apply = FLAGS.get(a);
    if (!apply) throw new Error(`unknown argument ${a}`);
    apply(o, next, a);
  }
  checkOptions(o);
  return o;
}

const step = (msg: string) => process.stdout.write(`\n==> ${msg}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Parses the first `n` data rows of a simple CSV (no quoted commas) into typed score requests. */
function customers(csv: string, n: number, types: Map<string, string>): Record<string, unknown>[] {
  const lines = readFileSync(csv, "utf8").split(/\r?\n/).filter(Boolean);
  const header = (lines[0] ?? "").split(",");
  return lines.slice(1, n + 1).map((line) => {
    const cells = line.split(",");
    const row: Record<string, unknown> = {};
    header.forEach((col, i) => {
      const t = types.get(col);
      const v = cells[i] ?? "";
      if (t === undefined) row[col] = /^\d+$/.test(v) ? Number(v) : v;
      else row[col] = t === "categorical" || t === "ordinal" ? v : Number(v);
    });
    return row;
  });
}

/** Without a local CSV (--data-url), score a few of the trainer's recorded probe rows. */
async function referenceRows(
  modelsDir: string,
  run: TrainingRun,
): Promise<Record<string, unknown>[]> {
  const file = join(modelsDir, run.status?.model?.digest ?? "", "reference.json");
  if (!existsSync(file)) {
    throw new Error(
      `no local copy of the artifact's reference rows (${file}); pass --data to score your own rows`,
    );
  }
  return (JSON.parse(readFileSync(file, "utf8")) as { rows: Record<string, unknown>[] }).rows.slice(
    0,
    5,
  );
}

/**
 * Steady scoring through the ChurnModel's Service (via the apiserver's Service proxy, so it
 * works on any cluster): one customer per request, about `rps` a second, until stopped.
 */
function steadyScoring(
  client: KubeClient,
  ns: string,
  model: string,
  rows: unknown[],
  rps: number,
) {
  const stats = { ok: 0, failed: 0, lastError: "" };
  let i = 0;
  const timer = setInterval(
    () => {
      const row = rows[i++ % rows.length];
      client
        .request("POST", `/api/v1/namespaces/${ns}/services/${model}:http/proxy/v1/score`, {
          body: { instances: [row] },
        })
        .then(
          () => stats.ok++,
          (err: Error) => {
            stats.failed++;
            stats.lastError = err.message;
          },
        );
    },
    Math.round(1000 / rps),
  );
  return { stats, stop: () => clearInterval(timer) };
}

/**
 * The second act: a newer TrainingRun (or, with --bad-canary, one whose scores are skewed but
 * which passes its gates) rolls out as a canary under steady load; its progress is printed as
 * it goes, then `kubectl churn status`. Returns how long the rollout took.
 */
async function rolloutAct(
  client: KubeClient,
  o: Options,
  first: TrainingRun,
  modelName: string,
  rows: Record<string, unknown>[],
): Promise<number> {
  const firstName = first.metadata?.name as string;
  const second = structuredClone(first);
  second.metadata = { ...first.metadata, name: `${firstName}-2` };
  delete second.metadata.resourceVersion;
  const hp = { ...second.spec.model?.hyperparameters };
  second.spec.model = o.badCanary
    ? { ...second.spec.model, hyperparameters: hp, scalePosWeight: 40 }
    : { ...second.spec.model, hyperparameters: { ...hp, max_depth: 4 } };
  step(
    o.badCanary
      ? `rolling out ${firstName}-2, trained with positives weighted 40x instead of about 4x (skewed scores, gates passed), under steady load`
      : `rolling out ${firstName}-2 (max_depth 4) as a canary under steady load`,
  );
  const load = steadyScoring(client, o.namespace, modelName, rows, 30);
  try {
    await apply(client, second);
    const trained = await waitForRunFinished(client, o.namespace, `${firstName}-2`);
    if (trained.status?.phase !== "Succeeded")
      throw new Error(`TrainingRun ${firstName}-2 failed: ${trained.status?.message}`);
    process.stdout.write(
      `    ${firstName}-2 Succeeded: ROC-AUC ${trained.status.metrics?.rocAuc?.toFixed(4)}, model ${trained.status.model?.digest.slice(0, 12)}\n`,
    );
    const t0 = Date.now();
    let last = "";
    const done = await waitFor(
      `the rollout of ${firstName}-2 to end`,
      async () => {
        const m = await client.get<ChurnModel>(churnModelType, o.namespace, modelName);
        const r = m?.status?.rollout;
        const line = r ? progressLine(r) : "";
        if (line && line !== last) {
          process.stdout.write(`    [${seconds(Date.now() - t0).padStart(7)}] ${line}\n`);
          last = line;
        }
        const ended = r?.phase === "Promoted" || r?.phase === "RolledBack";
        return ended && r.history?.[0]?.canary === trained.status?.model?.digest ? m : undefined;
      },
      { timeoutMs: 600_000, intervalMs: 1000 },
    );
    const ms = Date.now() - t0;
    const h = done.status?.rollout?.history?.[0];
    process.stdout.write(`    ${h?.outcome} in ${seconds(ms)}: ${h?.message}\n`);
    load.stop();
    process.stdout.write(
      `    steady load: ${load.stats.ok} scored, ${load.stats.failed} failed${load.stats.failed ? ` (${load.stats.lastError})` : ""}\n`,
    );
    step(`kubectl churn status ${modelName}`);
    spawnSync(
      process.execPath,
      [join(repoRoot, "bin", "kubectl-churn.js"), "status", modelName, "-n", o.namespace],
      { stdio: "inherit" },
    );
    return ms;
  } finally {
    load.stop();
  }
}

/** One line of a rollout's progress: phase, step, weights and the analysis verdict. */
function progressLine(r: NonNullable<NonNullable<ChurnModel["status"]>["rollout"]>): string {
  const score = r.analysis?.score === undefined ? "" : ` (score ${r.analysis.score})`;
  return `${r.phase ?? "-"} step ${(r.stepIndex ?? 0) + 1} weight ${r.effectiveWeight ?? 0}% mirror ${r.mirrorPercent ?? 0}% analysis ${r.analysis?.verdict ?? "-"}${score}`;
}

const persistentVolumes = {
  group: "",
  version: "v1",
  kind: "PersistentVolume",
  plural: "persistentvolumes",
  namespaced: false,
} as const;

/**
 * The demo's namespace from scratch, so every run shows the whole story (a rolled-back model
 * from an earlier run would otherwise be held back, and runs already trained would not train).
 */
async function freshNamespace(client: KubeClient, ns: string): Promise<void> {
  if (!(await client.get(Resources.namespaces, undefined, ns))) return;
  step(`deleting the namespace ${ns} left by an earlier run`);
  await client.delete(Resources.namespaces, undefined, ns);
  await waitFor(
    `namespace ${ns} to be gone`,
    async () => ((await client.get(Resources.namespaces, undefined, ns)) ? undefined : true),
    { timeoutMs: 180_000 },
  );
  // Its host-directory volumes too: a Released volume still names the old claim and would
  // never bind the new one.
  for (const claim of ["churn-models", "churn-data"])
    await client.delete(persistentVolumes, undefined, `${ns}-${claim}`);
}

/** The demo's customers: --data's file, or synthetic ones from the trainer. */
function writeCustomers(o: ReturnType<typeof parseArgs>, csv: string): void {
  if (o.data) {
    // A copy, not a symlink: the trainer pod cannot follow a link out of its volume.
    copyFileSync(o.data, csv);
    return;
  }
  step(`generating ${o.rows} synthetic customers with the trainer`);
  synthesize(csv, { rows: o.rows, seed: 7 });
}

/** The operator the demo started: stopped when the demo fails, which it would outlive. */
let started: OperatorProcess | undefined;

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  // $KUBECONFIG: the local cluster's, or the one context npm run demo -- --context chose.
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const client = adminClient(kc);
  const demoDir = join(repoRoot, ".demo", o.namespace);
  const dataDir = join(demoDir, "data");
  const modelsDir = join(demoDir, "models");
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(modelsDir, { recursive: true });
  const csv = join(dataDir, "customers.csv");
  if (!o.dataUrl && !existsSync(csv)) writeCustomers(o, csv);

  step("installing the CRDs (crds/) and the operator's RBAC (config/rbac/)");
  // On another cluster (--existing-storage) the claims exist already; with --data-url the
  // trainer fetches the CSV itself.
  const dirs = o.existingStorage ? {} : { modelsDir, dataDir: o.dataUrl ? undefined : dataDir };
  await freshNamespace(client, o.namespace);
  const operatorKubeconfig = await prepareOperatorNamespace(client, kc, o.namespace, dirs);

  step("starting the operator (as the churn-operator ServiceAccount, leader-elected)");
  const op = namespacedOperator("churn-operator-demo", operatorKubeconfig, o.namespace, o.images);
  await op.start();
  started = op;
  process.stdout.write(
    `    metrics http://127.0.0.1:${op.metricsPort}/metrics, health :${op.healthPort}\n`,
  );

  step("kubectl apply -f examples/training-run-bank.yaml -f examples/churn-model-bank.yaml");
  const run = parse(
    readFileSync(join(repoRoot, "examples", "training-run-bank.yaml"), "utf8"),
  ) as TrainingRun;
  run.metadata = { ...run.metadata, namespace: o.namespace };
  run.spec.dataset = o.dataUrl
    ? { url: o.dataUrl }
    : { persistentVolumeClaim: { claimName: "churn-data", path: "customers.csv" } };
  delete run.spec.resources;
  const model = parse(
    readFileSync(join(repoRoot, "examples", "churn-model-bank.yaml"), "utf8"),
  ) as ChurnModel;
  model.metadata = { ...model.metadata, namespace: o.namespace };
  model.spec.replicas = 1;
  delete model.spec.resources;
  const t0 = Date.now();
  await apply(client, run);
  await apply(client, model);

  const runName = run.metadata?.name as string;
  const finished = await waitForRunFinished(client, o.namespace, runName);
  const tTrained = Date.now() - t0;
  if (finished.status?.phase !== "Succeeded") {
    throw new Error(`TrainingRun ${runName} failed: ${finished.status?.message}`);
  }
  const m = finished.status.metrics ?? {};
  process.stdout.write(
    `    ${runName} Succeeded in ${seconds(tTrained)}: ROC-AUC ${m.rocAuc?.toFixed(4)}, F2 ${m.f2?.toFixed(4)}, ` +
      `threshold ${m.threshold?.toFixed(3)}, model ${finished.status.model?.digest.slice(0, 12)}\n`,
  );
  const ready = await waitForModelReady(client, o.namespace, model.metadata?.name as string);
  process.stdout.write(
    `    ChurnModel ${model.metadata?.name} Ready ${seconds(Date.now() - t0)} after apply; endpoint ${ready.status?.endpoint}\n`,
  );

  step("scoring five customers with explanations (POST /v1/score through the Service)");
  const types = new Map(run.spec.schema.features.map((f) => [f.name, f.type]));
  const rows = o.dataUrl ? await referenceRows(modelsDir, finished) : customers(csv, 5, types);
  const modelName = model.metadata?.name as string;
  const body = (await client.request(
    "POST",
    `/api/v1/namespaces/${o.namespace}/services/${modelName}:http/proxy/v1/score`,
    { body: { instances: rows, explain: true } },
  )) as {
    predictions?: Array<{
      probability: number;
      label: boolean;
      explanation?: {
        topPositive: Array<{ feature: string; value: unknown; contribution: number }>;
      };
    }>;
  };
  if (!body.predictions) throw new Error(`scoring failed: ${JSON.stringify(body)}`);
  body.predictions.forEach((p, i) => {
    const id = rows[i]?.[run.spec.schema.idColumn ?? ""] ?? i;
    const drivers = (p.explanation?.topPositive ?? [])
      .map((d) => `${d.feature}=${JSON.stringify(d.value)} (+${d.contribution.toFixed(2)})`)
      .join(", ");
    process.stdout.write(
      `    customer ${id}: churn probability ${(p.probability * 100).toFixed(1)}% ${p.label ? "AT RISK" : "ok"}${drivers ? `; raised by ${drivers}` : ""}\n`,
    );
  });

  // Steady load needs many customers: a handful repeated would make every score histogram a
  // few spikes, which no real traffic looks like.
  const loadRows = o.dataUrl ? rows : customers(csv, 1000, types);
  const rolloutMs = await rolloutAct(client, o, run, modelName, loadRows);

  step("kubectl get tr,chm");
  // The local cluster's own kubectl when it is built, else the one on PATH.
  const kubectl = cachedBinaries()?.kubectl ?? "kubectl";
  spawnSync(kubectl, ["get", "tr,chm", "-n", o.namespace], { stdio: "inherit" });

  process.stdout.write(
    `\ntimings: apply->Succeeded ${seconds(tTrained)}, rollout ${seconds(rolloutMs)}\n`,
  );
  if (o.keep) {
    process.stdout.write("operator left running (--keep); Ctrl-C to stop it\n");
    process.once("SIGINT", () => void op.kill("SIGTERM").then(() => process.exit(0)));
    return;
  }
  await op.kill("SIGTERM");
}

main().catch(async (err) => {
  process.stderr.write(`demo failed: ${(err as Error).message}\n`);
  await started?.kill("SIGTERM");
  process.exit(1);
});
