import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

/** Repository root (two levels above this file). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** The chart under test. */
export const chartDir = join(repoRoot, "charts", "churn-operator");

/** The Prometheus Operator kinds the chart renders when the cluster serves them. */
export const MONITORING_APIS = [
  "monitoring.coreos.com/v1/ServiceMonitor",
  "monitoring.coreos.com/v1/PodMonitor",
  "monitoring.coreos.com/v1/PrometheusRule",
];

/** One rendered Kubernetes object, loosely typed for assertions. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  // biome-ignore lint/suspicious/noExplicitAny: rendered manifests are checked field by field
  [field: string]: any;
}

/** How to render: values (written to a file), api versions the "cluster" serves, names. */
export interface RenderOptions {
  values?: Record<string, unknown>;
  apiVersions?: string[];
  release?: string;
  namespace?: string;
  extraArgs?: string[];
}

/** Result of one helm invocation. */
export interface HelmRun {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs helm with a values file built from `options.values`. */
export function runHelm(helm: string, args: string[], values?: Record<string, unknown>): HelmRun {
  const dir = mkdtempSync(join(tmpdir(), "chart-values-"));
  try {
    const full = [...args];
    if (values) {
      const file = join(dir, "values.json");
      writeFileSync(file, JSON.stringify(values));
      full.push("--values", file);
    }
    const res = spawnSync(helm, full, {
      cwd: repoRoot,
      encoding: "utf8",
      env: { ...process.env, HELM_CACHE_HOME: dir, HELM_CONFIG_HOME: dir, HELM_DATA_HOME: dir },
    });
    if (res.error) throw res.error;
    return { status: res.status ?? 1, stdout: res.stdout, stderr: res.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `helm template` arguments for these options. */
export function templateArgs(o: RenderOptions = {}): string[] {
  const args = [
    "template",
    o.release ?? "churn",
    chartDir,
    "--namespace",
    o.namespace ?? "churn-system",
  ];
  for (const api of o.apiVersions ?? []) args.push("--api-versions", api);
  return [...args, ...(o.extraArgs ?? [])];
}

/** Renders the chart and parses every object; throws with helm's stderr when it fails. */
export function renderChart(helm: string, o: RenderOptions = {}): KubeObject[] {
  const run = runHelm(helm, templateArgs(o), o.values);
  if (run.status !== 0) throw new Error(`helm template failed:\n${run.stderr}`);
  return parseManifests(run.stdout);
}

/** Parses a multi-document manifest stream, dropping empty documents; YAML errors throw. */
export function parseManifests(text: string): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`invalid YAML in rendered chart: ${doc.errors[0]}`);
    const value = doc.toJS() as KubeObject | null;
    if (value) objects.push(value);
  }
  return objects;
}

/** Renders and expects helm to refuse; returns its stderr. */
export function renderFails(helm: string, o: RenderOptions): string {
  const run = runHelm(helm, templateArgs(o), o.values);
  if (run.status === 0) throw new Error("helm template succeeded, expected it to fail");
  return run.stderr;
}

/** The one object of a kind (and name, when given); throws when absent or ambiguous. */
export function only(objects: KubeObject[], kind: string, name?: string): KubeObject {
  const found = objects.filter(
    (o) => o.kind === kind && (name === undefined || o.metadata.name === name),
  );
  if (found.length !== 1) {
    throw new Error(`expected one ${kind}${name ? ` ${name}` : ""}, found ${found.length}`);
  }
  return found[0] as KubeObject;
}
