import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import type { ChurnModel } from "../../operator/src/api/churn-model.js";
import { crdDrift, crdOutputDirs, crdsDir } from "../../operator/src/api/generate-crds.js";
import type { TrainingRun } from "../../operator/src/api/training-run.js";
import { parseOperatorConfig } from "../../operator/src/config/operator-config.js";
import { buildRouterDeployment } from "../../operator/src/controllers/churnmodel/build-router.js";
import { buildServingDeployment } from "../../operator/src/controllers/churnmodel/build-serving-deployment.js";
import { ROLLOUT_PHASES } from "../../operator/src/controllers/churnmodel/rollout-metrics.js";
import { matchesSelector } from "../../operator/src/controllers/shared/label-selector.js";
import { buildTrainingJob } from "../../operator/src/controllers/trainingrun/build-training-job.js";
import { ensureHelm } from "./helm-binary.js";
import { type MetricSelector, promqlSelectors } from "./promql-metric-names.js";
import { type RegisteredMetric, registeredMetrics } from "./registered-metrics.js";
import {
  chartDir,
  type KubeObject,
  MONITORING_APIS,
  only,
  renderChart,
  renderFails,
  repoRoot,
  runHelm,
} from "./render-chart.js";

// The Helm chart, rendered by the real helm (built from the Go module proxy on first use and
// cached) and checked against the code it deploys: config/rbac's rules, crds/, the operator's
// flag parser, the runtime pods' labels and ports, and the metrics both programs register.

let helm: string;
let metrics: Map<string, RegisteredMetric>;
// A cold helm build takes minutes on a busy 2-core machine; later runs find it cached.
beforeAll(async () => {
  helm = await ensureHelm();
  metrics = await registeredMetrics();
}, 900_000);

const NS = "churn-system";
const container = (objects: KubeObject[]) =>
  only(objects, "Deployment").spec.template.spec.containers[0];

/** The operator config the rendered Deployment's args and env produce, parsed by the operator. */
function operatorConfigOf(objects: KubeObject[], podName = "op-0") {
  const c = container(objects);
  const env: Record<string, string> = {};
  for (const e of c.env) {
    if (e.valueFrom?.fieldRef?.fieldPath === "metadata.namespace") env[e.name] = NS;
    else if (e.valueFrom?.fieldRef?.fieldPath === "metadata.name") env[e.name] = podName;
    else env[e.name] = e.value;
  }
  return parseOperatorConfig(c.args, env);
}

function configRbac(): KubeObject[] {
  const dir = join(repoRoot, "config", "rbac");
  const files = [
    "service-account.yaml",
    "role.yaml",
    "role-binding.yaml",
    "leader-election-role.yaml",
  ];
  return files.flatMap((f) =>
    parseAllDocuments(readFileSync(join(dir, f), "utf8")).map((d) => d.toJS() as KubeObject),
  );
}

/** One dashboard panel, loosely typed for assertions. */
interface Panel {
  type: string;
  id: number;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: { expr: string; legendFormat: string }[];
  // biome-ignore lint/suspicious/noExplicitAny: panel options are checked field by field
  fieldConfig?: { defaults?: any };
}

/** One alerting rule as rendered. */
interface RenderedRule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** Metric selectors of every alert, keyed by alert name. */
function alertSelectors(rule: KubeObject) {
  return (rule.spec.groups as { rules: { alert: string; expr: string }[] }[])
    .flatMap((g) => g.rules)
    .map((r) => ({ alert: r.alert, expr: r.expr, selectors: promqlSelectors(r.expr) }));
}

/**
 * The PromQL an alert's annotations run through Prometheus's template `query` function, as
 * `query \`...\`` or `printf \`...\` ... | query` (`%q` standing for a quoted label value).
 */
function annotationQueries(rule: KubeObject) {
  return (rule.spec.groups as { rules: RenderedRule[] }[])
    .flatMap((g) => g.rules)
    .flatMap((r) =>
      Object.values(r.annotations).flatMap((text) =>
        [...text.matchAll(/\b(query|printf) `([^`]*)`/g)].map((m) => ({
          alert: r.alert,
          expr: (m[2] as string).replaceAll("%q", '"x"'),
        })),
      ),
    );
}

// Labels every scraped series carries besides its own: Prometheus Operator's target labels and
// the churn_model/model_version labels this chart's PodMonitor relabels from the pods.
const TARGET_LABELS = new Set([
  "job",
  "instance",
  "namespace",
  "pod",
  "container",
  "service",
  "endpoint",
  "churn_model",
  "model_version",
]);
/** Problems with one selector: an unknown metric, or a matcher on a label it never has. */
function selectorProblems(where: string, metric: string, labels: string[]): string[] {
  const known = metrics.get(metric)?.labelNames;
  if (!known) return [`${where}: ${metric} is not a metric the operator or runtime registers`];
  return labels
    .filter((l) => !known.includes(l) && !TARGET_LABELS.has(l))
    .map((l) => `${where}: ${metric} has no label ${l}`);
}

/** {@link selectorProblems} of each selector of one expression. */
function selectorsProblems(where: string, selectors: MetricSelector[]): string[] {
  return selectors.flatMap((s) =>
    selectorProblems(
      where,
      s.metric,
      s.matchers.map((m) => m.label),
    ),
  );
}

/** Legend `{{label}}`s that name no label of the panel target's series (they render empty). */
function legendProblems(title: string, legendFormat: string, selectors: MetricSelector[]) {
  const problems: string[] = [];
  for (const [, label] of legendFormat.matchAll(/\{\{\s*(\w+)\s*\}\}/g)) {
    const has = selectors.some(
      (s) =>
        TARGET_LABELS.has(label as string) ||
        metrics.get(s.metric)?.labelNames.includes(label as string),
    );
    if (!has) problems.push(`panel "${title}": legend {{${label}}} is no label of its series`);
  }
  return problems;
}

/**
 * How a panel's selector misses the dashboard's variables: operator series by `$operator`
 * (and those about one ChurnModel by model too), pod series by `$namespace` and `$churn_model`.
 */
function variableFilterProblems(title: string, s: MetricSelector): string[] {
  const problems: string[] = [];
  const m = metrics.get(s.metric);
  const has = (label: string, value: string) =>
    s.matchers.some((x) => x.label === label && x.op === "=~" && x.value === value);
  const job = has("job", "$operator");
  const model = has("namespace", "$namespace") && has("churn_model", "$churn_model");
  const where = `panel "${title}": ${s.metric}`;
  const operatorOnly = m?.sources.every((x) => x === "operator");
  // Operator series by job; those about one ChurnModel (rollout gauges) by model too.
  if (operatorOnly && !job) problems.push(`${where} without job=~"$operator"`);
  if (operatorOnly && m?.labelNames.includes("churn_model") && !model)
    problems.push(`${where} without $namespace and $churn_model`);
  // Pod series (scoring and router) by namespace and model.
  if (!m?.sources.includes("operator") && !model)
    problems.push(`${where} without $namespace and $churn_model`);
  if (!job && !model) problems.push(`${where} filtered by no variable`);
  return problems;
}

describe("helm lint", () => {
  it("passes --strict with the default values and with every optional part on", () => {
    const lint = (args: string[]) => runHelm(helm, ["lint", "--strict", chartDir, ...args]);
    const plain = lint([]);
    expect(plain.stderr + plain.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    expect(plain.status).toBe(0);
    const full = lint([
      "--set",
      "replicaCount=3,watchNamespace=team-a,serviceMonitor.enabled=true,podMonitor.enabled=true",
      "--set",
      "prometheusRule.enabled=true,prometheusRule.runbookUrlBase=https://runbooks.example/churn",
    ]);
    expect(full.status, full.stdout + full.stderr).toBe(0);
  });
});

describe("default install", () => {
  let objects: KubeObject[];
  beforeAll(() => {
    objects = renderChart(helm);
  });

  it("renders the operator, its RBAC, metrics Service and dashboard, and no monitoring CRs", () => {
    expect(objects.map((o) => o.kind).sort()).toEqual([
      "ClusterRole",
      "ClusterRoleBinding",
      "ConfigMap",
      "Deployment",
      "Role",
      "RoleBinding",
      "Service",
      "ServiceAccount",
    ]);
    for (const o of objects.filter(
      (o) => o.kind !== "ClusterRole" && o.kind !== "ClusterRoleBinding",
    )) {
      expect(o.metadata.namespace, `${o.kind} ${o.metadata.name}`).toBe(NS);
    }
  });

  it("grants exactly config/rbac's rules, bound to the chart's ServiceAccount", () => {
    const ref = configRbac();
    const sa = only(objects, "ServiceAccount");
    expect(only(objects, "ClusterRole").rules).toEqual(only(ref, "ClusterRole").rules);
    expect(only(objects, "Role").rules).toEqual(only(ref, "Role").rules);
    const subject = [{ kind: "ServiceAccount", name: sa.metadata.name, namespace: NS }];
    const crb = only(objects, "ClusterRoleBinding");
    expect(crb.subjects).toEqual(subject);
    expect(crb.roleRef).toEqual({
      apiGroup: "rbac.authorization.k8s.io",
      kind: "ClusterRole",
      name: only(objects, "ClusterRole").metadata.name,
    });
    const rb = only(objects, "RoleBinding");
    expect(rb.metadata.namespace).toBe(NS);
    expect(rb.subjects).toEqual(subject);
    expect(rb.roleRef.name).toBe(only(objects, "Role").metadata.name);
    expect(
      container(objects) && only(objects, "Deployment").spec.template.spec.serviceAccountName,
    ).toBe(sa.metadata.name);
    // Every kind config/rbac installs has its counterpart in the chart.
    expect(new Set(ref.map((o) => o.kind))).toEqual(
      new Set(
        objects
          .filter((o) => o.apiVersion.startsWith("rbac") || o.kind === "ServiceAccount")
          .map((o) => o.kind),
      ),
    );
  });

  it("runs the operator with flags its own parser accepts: leader election on, pod-IP listeners", () => {
    const config = operatorConfigOf(objects, "churn-churn-operator-abc");
    expect(config).toMatchObject({
      namespace: undefined,
      leaderElect: true,
      leaderElectionNamespace: NS,
      leaderElectionId: "churn-churn-operator",
      identity: "churn-churn-operator-abc",
      metricsBindAddress: { host: "0.0.0.0", port: 8080 },
      healthProbeBindAddress: { host: "0.0.0.0", port: 8081 },
      trainerImage: "churn-operator/trainer:0.1.0",
      runtimeImage: "churn-operator/runtime:0.1.0",
      modelStorePvc: "churn-models",
      trainerServiceAccount: "churn-trainer",
      imagePullPolicy: "IfNotPresent",
      workers: 2,
      logLevel: "info",
    });
    expect(container(objects).args).toContain("--metrics-bind-address=:8080");
    expect(container(objects).args).toContain("--health-probe-bind-address=:8081");
  });

  it("hardens the pod and probes /healthz and /readyz on the health port", () => {
    const pod = only(objects, "Deployment").spec.template.spec;
    const c = container(objects);
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(c.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(c.resources.requests).toMatchObject({
      cpu: expect.any(String),
      memory: expect.any(String),
    });
    expect(c.resources.limits.memory).toBeDefined();
    const health = c.ports.find((p: { name: string }) => p.name === "health");
    expect(health.containerPort).toBe(8081);
    expect(c.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "health" });
    expect(c.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "health" });
    // A read-only root still gets a writable /tmp.
    expect(c.volumeMounts).toContainEqual({ name: "tmp", mountPath: "/tmp" });
    expect(pod.volumes.find((v: { name: string }) => v.name === "tmp")?.emptyDir).toBeDefined();
  });

  it("exposes /metrics through a Service that selects the operator pods' metrics port", () => {
    const svc = only(objects, "Service");
    const pod = only(objects, "Deployment").spec.template;
    for (const [k, v] of Object.entries(svc.spec.selector)) expect(pod.metadata.labels[k]).toBe(v);
    const port = svc.spec.ports[0];
    expect(port.targetPort).toBe("metrics");
    expect(container(objects).ports).toContainEqual({
      name: "metrics",
      containerPort: 8080,
      protocol: "TCP",
    });
  });

  it("ships the Grafana dashboard as a sidecar ConfigMap whose queries use real metrics", () => {
    const cm = only(objects, "ConfigMap");
    expect(cm.metadata.labels?.grafana_dashboard).toBe("1");
    const dashboard = JSON.parse(cm.data["churn-operator.json"]);
    expect(dashboard.uid).toBe("churn-operator");
    const panels = (dashboard.panels as Panel[]).filter((p) => p.type !== "row");
    expect(panels.length).toBeGreaterThan(15);
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    const problems: string[] = [];
    const used = new Set<string>();
    for (const p of panels) {
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets ?? []) {
        const selectors = promqlSelectors(t.expr);
        for (const s of selectors) used.add(s.metric);
        problems.push(
          ...selectorsProblems(`panel "${p.title}"`, selectors),
          ...legendProblems(p.title, t.legendFormat, selectors),
        );
      }
    }
    expect(problems).toEqual([]);
    // The headline series are all on it.
    for (const m of [
      "http_requests_total",
      "http_request_duration_seconds_bucket",
      "churn_feature_drift_psi",
      "churn_score_drift_psi",
      "churn_model_ready",
      "controller_runtime_reconcile_errors_total",
      "controller_runtime_terminal_reconcile_errors_total",
      "workqueue_depth",
      "churn_trainingrun_completions_total",
      "churn_trainingrun_duration_seconds_bucket",
      "churn_scoringrun_completions_total",
      "churn_scoringrun_rows_total",
      "churn_scoringrun_duration_seconds_bucket",
      "churn_rollout_phase",
      "churn_rollout_canary_weight",
      "churn_rollout_step",
      "churn_rollout_analysis_score",
      "churn_rollouts_total",
      "churn_rollout_analysis_total",
      "churn_router_requests_total",
      "churn_router_request_duration_seconds_bucket",
      "churn_router_canary_weight",
      "churn_router_mirror_percent",
      "churn_router_mirror_comparisons_total",
      "churn_router_mirror_decision_flips_total",
      "churn_router_mirror_abs_diff_bucket",
      "churn_router_mirror_errors_total",
      "churn_router_fallbacks_total",
      "churn_router_config_reloads_total",
      "churn_router_requests_in_flight",
    ]) {
      expect(used).toContain(m);
    }
    for (const v of dashboard.templating.list.filter((v: { type: string }) => v.type === "query")) {
      const expr = v.query.query.replace(/^label_values\((.*),\s*\w+\)$/, "$1");
      expect(selectorsProblems(`variable ${v.name}`, promqlSelectors(expr))).toEqual([]);
    }
  });
});

describe("the Grafana dashboard", () => {
  let panels: Panel[];
  beforeAll(() => {
    const cm = only(renderChart(helm), "ConfigMap");
    panels = JSON.parse(cm.data["churn-operator.json"]).panels;
  });

  it("has a row each for serving, rollouts, canary vs stable, drift, the operator, training and scoring", () => {
    expect(panels.filter((p) => p.type === "row").map((p) => p.title)).toEqual([
      "Serving",
      "Rollouts",
      "Canary vs stable",
      "Predictions and drift",
      "Operator",
      "Training runs",
      "Scoring runs",
    ]);
    // The router's per-variant series are what the canary vs stable row compares.
    const row = (title: string) => {
      const start = panels.findIndex((p) => p.type === "row" && p.title === title);
      const end = panels.findIndex((p, i) => i > start && p.type === "row");
      return panels.slice(start + 1, end);
    };
    const metricsOf = (ps: Panel[]) =>
      new Set(
        ps
          .flatMap((p) => p.targets ?? [])
          .flatMap((t) => promqlSelectors(t.expr).map((s) => s.metric)),
      );
    for (const m of metricsOf(row("Canary vs stable"))) expect(m).toMatch(/^churn_router_/);
    for (const m of metricsOf(row("Rollouts"))) expect(m).toMatch(/^churn_rollout/);
    expect(metricsOf(row("Scoring runs"))).toEqual(
      new Set([
        "churn_scoringrun_completions_total",
        "churn_scoringrun_rows_total",
        "churn_scoringrun_duration_seconds_bucket",
      ]),
    );
    expect(row("Rollouts").length).toBeGreaterThanOrEqual(6);
    expect(row("Canary vs stable").length).toBeGreaterThanOrEqual(6);
  });

  it("lays panels out without overlaps, rows across the whole width", () => {
    const cells = new Map<string, string>();
    for (const p of panels) {
      const { x, y, w, h } = p.gridPos;
      expect(x + w, p.title).toBeLessThanOrEqual(24);
      if (p.type === "row") expect([x, w, h], p.title).toEqual([0, 24, 1]);
      for (let i = x; i < x + w; i++) {
        for (let j = y; j < y + h; j++) {
          expect(cells.get(`${i},${j}`), `${p.title} at ${i},${j}`).toBeUndefined();
          cells.set(`${i},${j}`, p.title);
        }
      }
    }
  });

  it("filters every query by the dashboard's variables: the operator's job, and pods' namespace and model", () => {
    const problems: string[] = [];
    for (const p of panels.filter((x) => x.type !== "row")) {
      for (const t of p.targets ?? []) {
        for (const s of promqlSelectors(t.expr)) {
          problems.push(...variableFilterProblems(p.title, s));
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it("selects exactly the controllers the operator's manager registers, in panels and the operator variable", () => {
    // controller-runtime's series name the controller in `controller`, the work queue's in `name`.
    const manager = readFileSync(join(repoRoot, "operator", "src", "manager.ts"), "utf8");
    const registered = [...manager.matchAll(/\bcontroller\("(\w+)",/g)].map((m) => m[1]).sort();
    expect(registered).toContain("scoringrun");
    const dashboard = JSON.parse(only(renderChart(helm), "ConfigMap").data["churn-operator.json"]);
    const exprs = [
      ...panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: p.title, expr: t.expr }))),
      ...dashboard.templating.list
        .filter((v: { type: string }) => v.type === "query")
        .map((v: { name: string; query: { query: string } }) => ({
          where: `variable ${v.name}`,
          expr: v.query.query.replace(/^label_values\((.*),\s*\w+\)$/, "$1"),
        })),
    ];
    const filters = exprs.flatMap(({ where, expr }) =>
      promqlSelectors(expr)
        .filter(
          (s) => s.metric.startsWith("controller_runtime_") || s.metric.startsWith("workqueue_"),
        )
        .flatMap((s) => s.matchers.filter((m) => m.label === "controller" || m.label === "name"))
        .map((m) => ({ where, op: m.op, controllers: m.value.split("|").sort() })),
    );
    expect(filters.length).toBeGreaterThan(10);
    for (const f of filters)
      expect(f, f.where).toEqual({ ...f, op: "=~", controllers: registered });
  });

  it("draws every rollout phase the operator exports, each in its own colour and name", () => {
    const panel = panels.find((p) => p.title === "Rollout phase");
    expect(panel?.type).toBe("state-timeline");
    const expr = panel?.targets?.[0]?.expr ?? "";
    // Each phase's series times its code; the value mappings name the codes.
    const codes = Object.fromEntries(
      [...expr.matchAll(/phase="(\w+)"\} \* (\d+)/g)].map((m) => [m[1], m[2]]),
    );
    expect(Object.keys(codes).sort()).toEqual([...ROLLOUT_PHASES].sort());
    const mappings = Object.assign(
      {},
      ...(panel?.fieldConfig?.defaults?.mappings ?? []).map(
        (m: { options: Record<string, { text: string; color: string }> }) => m.options,
      ),
    ) as Record<string, { text: string; color: string }>;
    for (const phase of ROLLOUT_PHASES) expect(mappings[codes[phase] as string]?.text).toBe(phase);
    expect(mappings["0"]?.text).toBe("no rollout yet");
    const colours = ROLLOUT_PHASES.map((phase) => mappings[codes[phase] as string]?.color);
    expect(new Set(colours).size).toBe(ROLLOUT_PHASES.length);
  });
});

describe("chart CRDs", () => {
  it("are byte-identical to the generated crds/ (both written by `npx tsx operator/src/api/generate-crds.ts`)", () => {
    const chartCrds = join(chartDir, "crds");
    expect(crdOutputDirs).toEqual([crdsDir, chartCrds]);
    expect(crdDrift()).toEqual([]);
    const files = (dir: string) =>
      readdirSync(dir)
        .filter((f) => f.endsWith(".yaml"))
        .sort();
    expect(files(chartCrds)).toEqual(files(crdsDir));
    for (const f of files(crdsDir)) {
      expect(readFileSync(join(chartCrds, f)).equals(readFileSync(join(crdsDir, f))), f).toBe(true);
    }
    const installed = renderChart(helm, { extraArgs: ["--include-crds"] })
      .filter((o) => o.kind === "CustomResourceDefinition")
      .map((o) => o.metadata.name)
      .sort();
    expect(installed).toEqual([
      "churnmodels.churn.mlops.dev",
      "scoringruns.churn.mlops.dev",
      "trainingruns.churn.mlops.dev",
    ]);
  });
});

describe("values", () => {
  it("flow into the operator's flags", () => {
    const digest = `sha256:${"a".repeat(64)}`;
    const objects = renderChart(helm, {
      values: {
        replicaCount: 3,
        leaderElection: { enabled: true, id: "churn-leader" },
        watchNamespace: "team-a",
        workers: 8,
        logLevel: "debug",
        image: {
          repository: "registry.example/churn/operator",
          tag: "1.2.3",
          pullPolicy: "Always",
        },
        trainer: {
          image: { repository: "registry.example/churn/trainer", digest },
          serviceAccountName: "trainer-sa",
        },
        runtime: { image: { repository: "registry.example/churn/runtime", tag: "9.9.9" } },
        workloadImagePullPolicy: "Always",
        modelStore: {
          pvcName: "shared-models",
          s3: { uri: "s3://models/churn/", secretName: "store", endpoint: "http://s3:8333" },
        },
        ports: { metrics: 9090, health: 9091 },
        extraEnv: [{ name: "NODE_OPTIONS", value: "--max-old-space-size=256" }],
      },
    });
    const d = only(objects, "Deployment");
    expect(d.spec.replicas).toBe(3);
    expect(container(objects).image).toBe("registry.example/churn/operator:1.2.3");
    expect(container(objects).imagePullPolicy).toBe("Always");
    expect(operatorConfigOf(objects)).toMatchObject({
      namespace: "team-a",
      leaderElectionId: "churn-leader",
      workers: 8,
      logLevel: "debug",
      trainerImage: `registry.example/churn/trainer@${digest}`,
      runtimeImage: "registry.example/churn/runtime:9.9.9",
      trainerServiceAccount: "trainer-sa",
      imagePullPolicy: "Always",
      modelStorePvc: "shared-models",
      modelStoreS3: {
        uri: "s3://models/churn/",
        access: { credentialsSecret: "store", endpoint: "http://s3:8333" },
      },
      metricsBindAddress: { host: "0.0.0.0", port: 9090 },
      healthProbeBindAddress: { host: "0.0.0.0", port: 9091 },
    });
    expect(container(objects).env).toContainEqual({
      name: "NODE_OPTIONS",
      value: "--max-old-space-size=256",
    });
    // Several replicas: a disruption budget keeps a standby through drains.
    expect(only(objects, "PodDisruptionBudget").spec.minAvailable).toBe(1);
  });

  it("confine a one-namespace operator to that namespace: a RoleBinding, no ClusterRoleBinding", () => {
    const objects = renderChart(helm, { values: { watchNamespace: "team-a" } });
    expect(objects.filter((o) => o.kind === "ClusterRoleBinding")).toEqual([]);
    const rb = objects.find((o) => o.kind === "RoleBinding" && o.roleRef.kind === "ClusterRole");
    expect(rb?.metadata.namespace).toBe("team-a");
    expect(rb?.roleRef.name).toBe(only(objects, "ClusterRole").metadata.name);
    // Its scoring pods are scraped there only, unless namespaces are listed.
    const scraped = (values: Record<string, unknown>) =>
      only(renderChart(helm, { apiVersions: MONITORING_APIS, values }), "PodMonitor").spec
        .namespaceSelector;
    expect(scraped({ watchNamespace: "team-a" })).toEqual({ matchNames: ["team-a"] });
    expect(
      scraped({
        watchNamespace: "team-a",
        podMonitor: { enabled: "auto", namespaces: ["x", "y"] },
      }),
    ).toEqual({ matchNames: ["x", "y"] });
  });

  it("let a single replica run without leader election, and an existing ServiceAccount be used", () => {
    const objects = renderChart(helm, {
      values: {
        leaderElection: { enabled: false },
        serviceAccount: { create: false, name: "ops-sa" },
      },
    });
    expect(operatorConfigOf(objects).leaderElect).toBe(false);
    expect(objects.filter((o) => o.kind === "ServiceAccount")).toEqual([]);
    expect(only(objects, "Deployment").spec.template.spec.serviceAccountName).toBe("ops-sa");
    expect(only(objects, "ClusterRoleBinding").subjects[0].name).toBe("ops-sa");
  });

  it.each([
    [{ replicaCount: 0 }, "/replicaCount"],
    [{ workers: 65 }, "/workers"],
    [{ logLevel: "verbose" }, "/logLevel"],
    [{ replicas: 2 }, "additional properties 'replicas'"],
    [{ image: { repository: "x", pullPolicy: "Sometimes" } }, "/image/pullPolicy"],
    [{ image: { repository: "x", digest: "abc" } }, "/image/digest"],
    [{ watchNamespace: "Team_A" }, "/watchNamespace"],
    [{ serviceMonitor: { enabled: "yes" } }, "/serviceMonitor/enabled"],
    [{ modelStore: { pvcName: "" } }, "/modelStore/pvcName"],
    [{ modelStore: { pvcName: "m", s3: { uri: "/models" } } }, "/modelStore/s3/uri"],
    [
      {
        prometheusRule: {
          enabled: true,
          alerts: {
            featureDrift: { enabled: true, for: "30m", severity: "warning", threshold: -1 },
          },
        },
      },
      "/prometheusRule/alerts/featureDrift/threshold",
    ],
    [
      {
        prometheusRule: {
          enabled: true,
          alerts: { modelNotReady: { enabled: true, for: "ten minutes", severity: "critical" } },
        },
      },
      "/prometheusRule/alerts/modelNotReady/for",
    ],
    [
      {
        prometheusRule: {
          enabled: true,
          alerts: {
            scoringRunRejectedRows: { enabled: true, for: "0m", severity: "warning", threshold: 5 },
          },
        },
      },
      "/prometheusRule/alerts/scoringRunRejectedRows/threshold",
    ],
    [{ ports: { metrics: 70000, health: 8081 } }, "/ports/metrics"],
    // Typos in nested keys fail too, instead of being silently ignored.
    [{ serviceMonitor: { enable: true } }, "additional properties 'enable'"],
    [{ grafana: { dashboards: { enabled: true, lable: "x" } } }, "additional properties 'lable'"],
  ])("rejects %j at install, naming %s", (values, field) => {
    const err = renderFails(helm, { values });
    expect(err).toContain("don't meet the specifications of the schema");
    expect(err).toContain(field);
  });

  it("refuse several replicas without leader election", () => {
    const err = renderFails(helm, {
      values: { replicaCount: 2, leaderElection: { enabled: false } },
    });
    expect(err).toContain("replicaCount > 1 needs leaderElection.enabled");
  });
});

describe("Prometheus Operator objects", () => {
  const kinds = (objects: KubeObject[]) =>
    objects
      .filter((o) => o.apiVersion === "monitoring.coreos.com/v1")
      .map((o) => o.kind)
      .sort();

  it("render only where the cluster serves monitoring.coreos.com/v1, unless forced on or off", () => {
    expect(kinds(renderChart(helm))).toEqual([]);
    expect(kinds(renderChart(helm, { apiVersions: MONITORING_APIS }))).toEqual([
      "PodMonitor",
      "PrometheusRule",
      "ServiceMonitor",
    ]);
    // `--api-versions monitoring.coreos.com/v1` (group/version only) counts too.
    expect(kinds(renderChart(helm, { apiVersions: ["monitoring.coreos.com/v1"] }))).toHaveLength(3);
    expect(kinds(renderChart(helm, { apiVersions: ["monitoring.coreos.com/v1alpha1"] }))).toEqual(
      [],
    );
    const off = {
      serviceMonitor: { enabled: false },
      podMonitor: { enabled: false },
      prometheusRule: { enabled: false },
    };
    expect(kinds(renderChart(helm, { apiVersions: MONITORING_APIS, values: off }))).toEqual([]);
    const on = {
      serviceMonitor: { enabled: true },
      podMonitor: { enabled: true },
      prometheusRule: { enabled: true },
    };
    expect(kinds(renderChart(helm, { values: on }))).toEqual([
      "PodMonitor",
      "PrometheusRule",
      "ServiceMonitor",
    ]);
    expect(kinds(renderChart(helm, { values: { podMonitor: { enabled: true } } }))).toEqual([
      "PodMonitor",
    ]);
  });

  describe("when served", () => {
    let objects: KubeObject[];
    beforeAll(() => {
      objects = renderChart(helm, {
        apiVersions: MONITORING_APIS,
        values: { serviceMonitor: { labels: { release: "kube-prometheus-stack" } } },
      });
    });

    it("the ServiceMonitor scrapes the metrics Service's port", () => {
      const sm = only(objects, "ServiceMonitor");
      const svc = only(objects, "Service");
      expect(sm.metadata.labels?.release).toBe("kube-prometheus-stack");
      for (const [k, v] of Object.entries(sm.spec.selector.matchLabels))
        expect(svc.metadata.labels?.[k]).toBe(v);
      expect(sm.spec.namespaceSelector.matchNames).toEqual([NS]);
      expect(sm.spec.endpoints).toEqual([
        expect.objectContaining({ port: svc.spec.ports[0].name, path: "/metrics" }),
      ]);
    });

    it("the ServiceMonitor keeps the namespace of the operator's per-model series, and only that", () => {
      const endpoint = only(objects, "ServiceMonitor").spec.endpoints[0];
      const operatorMetrics = [...metrics].filter(([, m]) => m.sources.includes("operator"));
      // Rollout gauges name the ChurnModel's namespace (as kube-state-metrics does): honoured,
      // or Prometheus would move it to exported_namespace under the operator pod's namespace.
      const ownNamespace = operatorMetrics
        .filter(([, m]) => m.labelNames.includes("namespace"))
        .map(([name]) => name);
      expect(ownNamespace).toContain("churn_rollout_phase");
      expect(endpoint.honorLabels).toBe(true);
      // No operator series may override the ServiceMonitor's other target labels.
      const targetLabels = ["job", "instance", "pod", "container", "service", "endpoint"];
      const overriding = operatorMetrics.flatMap(([name, m]) =>
        m.labelNames.filter((l) => targetLabels.includes(l)).map((l) => `${name}{${l}}`),
      );
      expect(overriding).toEqual([]);
    });

    it("the PodMonitor scrapes the scoring and router pods the operator builds, on their http port", () => {
      const pm = only(objects, "PodMonitor");
      const digest = "1".repeat(64);
      const uri = `pvc://churn-models/${digest}`;
      const model = {
        apiVersion: "churn.mlops.dev/v1alpha1",
        kind: "ChurnModel",
        metadata: { name: "bank", namespace: "team-a", uid: "u1" },
        spec: { source: { artifact: { uri, digest } }, replicas: 2 },
      } as unknown as ChurnModel;
      const settings = {
        runtimeImage: "churn-operator/runtime:0.1.0",
        imagePullPolicy: "IfNotPresent",
      };
      const serving = buildServingDeployment(
        model,
        { name: "stable", replicas: 1, version: { uri, digest } } as never,
        settings,
      ).spec?.template;
      const router = buildRouterDeployment(model, settings).spec?.template;
      const trainer = buildTrainingJob(
        {
          apiVersion: "churn.mlops.dev/v1alpha1",
          kind: "TrainingRun",
          metadata: { name: "bank", namespace: "team-a", uid: "u2" },
          spec: {
            dataset: { hostPath: { path: "/data/churn.csv" } },
            schema: { target: { column: "Exited" }, features: [] },
          },
        } as unknown as TrainingRun,
        {
          trainerImage: "churn-operator/trainer:0.1.0",
          modelStorePvc: "churn-models",
          serviceAccount: "churn-trainer",
          imagePullPolicy: "IfNotPresent",
        },
      ).spec?.template;
      expect(pm.spec.podMetricsEndpoints).toHaveLength(1);
      const endpoint = pm.spec.podMetricsEndpoints[0];
      expect(endpoint.path).toBe("/metrics");
      expect(pm.spec.namespaceSelector).toEqual({ any: true });
      for (const [role, pod] of Object.entries({ serving, router })) {
        expect(matchesSelector(pod?.metadata?.labels, pm.spec.selector), role).toBe(true);
        expect(
          pod?.spec?.containers[0]?.ports?.map((p) => p.name),
          role,
        ).toContain(endpoint.port);
      }
      // Trainer pods serve no /metrics: not a target that would only ever be down.
      expect(matchesSelector(trainer?.metadata?.labels, pm.spec.selector)).toBe(false);

      // The labels the relabelings give a pod's series (Prometheus sanitises `.`, `/` and `-` of
      // a pod label to `_`; a label the pod lacks gives an empty value, which is no label).
      const sanitized = (k: string) =>
        `__meta_kubernetes_pod_label_${k.replace(/[^a-zA-Z0-9_]/g, "_")}`;
      const targetsOf = (labels: Record<string, string> = {}) => {
        const meta = Object.fromEntries(Object.entries(labels).map(([k, v]) => [sanitized(k), v]));
        const out: Record<string, string> = {};
        for (const r of endpoint.relabelings) {
          const value = meta[r.sourceLabels[0]];
          if (value) out[r.targetLabel] = value;
        }
        return out;
      };
      // Every relabeling reads a label the scoring pods really have.
      const servingMeta = Object.keys(serving?.metadata?.labels ?? {}).map(sanitized);
      for (const r of endpoint.relabelings) expect(servingMeta).toContain(r.sourceLabels[0]);
      expect(targetsOf(serving?.metadata?.labels)).toEqual({
        churn_model: "bank",
        model_version: "1111111111",
      });
      expect(targetsOf(router?.metadata?.labels)).toEqual({ churn_model: "bank" });
      // A target label a scraped series already has would be renamed to exported_<label>: the
      // router's own `variant` (stable, canary) and churn_model_info's `version` must survive.
      const clashes = [...metrics]
        .filter(([, m]) => m.sources.some((source) => source !== "operator"))
        .flatMap(([name, m]) =>
          endpoint.relabelings
            .filter((r: { targetLabel: string }) => m.labelNames.includes(r.targetLabel))
            .map((r: { targetLabel: string }) => `${name}{${r.targetLabel}}`),
        );
      expect(clashes).toEqual([]);
    });

    it("alerts on the real metric names, with real labels", () => {
      const rule = only(objects, "PrometheusRule");
      const alerts = alertSelectors(rule);
      expect(alerts.map((a) => a.alert).sort()).toEqual([
        "ChurnModelFeatureDrift",
        "ChurnModelHighErrorRatio",
        "ChurnModelHighLatency",
        "ChurnModelNotReady",
        "ChurnModelScoreDrift",
        "ChurnOperatorNoLeader",
        "ChurnOperatorReconcileErrors",
        "ChurnRolloutRolledBack",
        "ChurnRolloutStuckInconclusive",
        "ChurnRouterConfigRejected",
        "ChurnScoringRunFailed",
        "ChurnScoringRunRejectedRows",
        "ChurnTrainingRunFailed",
      ]);
      for (const a of alerts) expect(a.selectors.length, a.alert).toBeGreaterThan(0);
      // The queries annotations run (which models, which metrics, the weight) as well.
      const queries = annotationQueries(rule);
      expect(queries.map((q) => q.alert).sort()).toEqual([
        "ChurnRolloutRolledBack",
        "ChurnRolloutRolledBack",
        "ChurnRolloutStuckInconclusive",
      ]);
      expect([
        ...alerts.flatMap((a) => selectorsProblems(a.alert, a.selectors)),
        ...queries.flatMap((q) =>
          selectorsProblems(`${q.alert} annotation`, promqlSelectors(q.expr)),
        ),
      ]).toEqual([]);
      const byName = Object.fromEntries(alerts.map((a) => [a.alert, a]));
      const metricsOf = (name: string) => byName[name]?.selectors.map((s) => s.metric) ?? [];
      expect(metricsOf("ChurnOperatorReconcileErrors")).toContain(
        "controller_runtime_reconcile_errors_total",
      );
      expect(metricsOf("ChurnModelHighErrorRatio")).toEqual([
        "http_requests_total",
        "http_requests_total",
      ]);
      expect(metricsOf("ChurnModelHighLatency")).toEqual(["http_request_duration_seconds_bucket"]);
      expect(metricsOf("ChurnModelFeatureDrift")).toContain("churn_feature_drift_psi");
      expect(metricsOf("ChurnModelNotReady")).toEqual(["churn_model_ready"]);
      // Operator series are those the ServiceMonitor scrapes: job is the metrics Service.
      const op = byName.ChurnOperatorReconcileErrors?.selectors[0]?.matchers;
      expect(op).toContainEqual({
        label: "job",
        op: "=",
        value: only(objects, "Service").metadata.name,
      });
      // Runtime series carry the label the PodMonitor adds.
      expect(byName.ChurnModelNotReady?.selectors[0]?.matchers).toContainEqual({
        label: "churn_model",
        op: "!=",
        value: "",
      });
      // Rollbacks come from the operator's outcome counter, its RolledBack outcome only.
      const rolledBack = byName.ChurnRolloutRolledBack?.selectors ?? [];
      expect(new Set(rolledBack.map((s) => s.metric))).toEqual(new Set(["churn_rollouts_total"]));
      for (const s of rolledBack) {
        expect(s.matchers).toContainEqual({ label: "outcome", op: "=", value: "RolledBack" });
        expect(s.matchers).toEqual(expect.arrayContaining(op ?? []));
      }
      // The phase gauge carries the model's namespace (honorLabels): selected by job alone.
      const phase = byName.ChurnRolloutStuckInconclusive?.selectors ?? [];
      expect(phase.map((s) => s.metric)).toEqual(["churn_rollout_phase"]);
      expect(phase[0]?.matchers).toEqual([
        { label: "job", op: "=", value: only(objects, "Service").metadata.name },
        { label: "phase", op: "=", value: "Inconclusive" },
      ]);
      const rejected = byName.ChurnRouterConfigRejected?.selectors ?? [];
      expect(new Set(rejected.map((s) => s.metric))).toEqual(
        new Set(["churn_router_config_reloads_total"]),
      );
      for (const s of rejected) {
        expect(s.matchers).toContainEqual({ label: "result", op: "=", value: "rejected" });
        expect(s.matchers).toContainEqual({ label: "churn_model", op: "!=", value: "" });
      }
    });

    it("alerts on TrainingRun and ScoringRun outcomes from the operator's own counters", () => {
      const alerts = alertSelectors(only(objects, "PrometheusRule"));
      const selectorsOf = (name: string) => alerts.find((a) => a.alert === name)?.selectors ?? [];
      const op = selectorsOf("ChurnOperatorReconcileErrors")[0]?.matchers ?? [];
      // Not kube-state-metrics: the operator's completions, their failed results only.
      for (const [alert, metric] of [
        ["ChurnTrainingRunFailed", "churn_trainingrun_completions_total"],
        ["ChurnScoringRunFailed", "churn_scoringrun_completions_total"],
      ] as const) {
        expect(new Set(selectorsOf(alert).map((s) => s.metric)), alert).toEqual(new Set([metric]));
        for (const s of selectorsOf(alert)) {
          expect(s.matchers).toContainEqual({ label: "result", op: "=", value: "failed" });
          expect(s.matchers).toEqual(expect.arrayContaining(op));
        }
      }
      // Rejected rows over all rows of the runs that ended, unless a run failed for its limit.
      const rows = selectorsOf("ChurnScoringRunRejectedRows");
      expect(new Set(rows.map((s) => s.metric))).toEqual(
        new Set(["churn_scoringrun_rows_total", "churn_scoringrun_completions_total"]),
      );
      for (const s of rows) expect(s.matchers).toEqual(expect.arrayContaining(op));
      const own = rows.flatMap((s) =>
        s.matchers
          .filter((m) => !op.some((o) => o.label === m.label))
          .map((m) => `${m.label}${m.op}${m.value}`),
      );
      expect(new Set(own)).toEqual(new Set(["outcome=rejected", "reason=RejectLimitExceeded"]));
    });

    it("turns each alert off by its own switch", () => {
      const switches: Record<string, string> = {
        reconcileErrors: "ChurnOperatorReconcileErrors",
        operatorNoLeader: "ChurnOperatorNoLeader",
        trainingRunFailed: "ChurnTrainingRunFailed",
        scoringRunFailed: "ChurnScoringRunFailed",
        scoringRunRejectedRows: "ChurnScoringRunRejectedRows",
        runtimeErrorRatio: "ChurnModelHighErrorRatio",
        runtimeLatencyP99: "ChurnModelHighLatency",
        featureDrift: "ChurnModelFeatureDrift",
        scoreDrift: "ChurnModelScoreDrift",
        modelNotReady: "ChurnModelNotReady",
        rolloutRolledBack: "ChurnRolloutRolledBack",
        rolloutStuckInconclusive: "ChurnRolloutStuckInconclusive",
        routerConfigRejected: "ChurnRouterConfigRejected",
      };
      const all = alertSelectors(only(objects, "PrometheusRule")).map((a) => a.alert);
      expect(Object.values(switches).sort()).toEqual([...all].sort());
      for (const [key, alert] of Object.entries(switches)) {
        const rendered = renderChart(helm, {
          apiVersions: MONITORING_APIS,
          values: { prometheusRule: { enabled: "auto", alerts: { [key]: { enabled: false } } } },
        });
        const left = alertSelectors(only(rendered, "PrometheusRule")).map((a) => a.alert);
        expect(left, key).toEqual(all.filter((a) => a !== alert));
      }
    });

    it("takes thresholds, durations and on/off from values", () => {
      const tuned = renderChart(helm, {
        apiVersions: MONITORING_APIS,
        values: {
          prometheusRule: {
            enabled: "auto",
            additionalAlertLabels: { team: "ml-platform" },
            runbookUrlBase: "https://runbooks.example/churn",
            alerts: {
              featureDrift: {
                enabled: true,
                threshold: 0.4,
                minWindowRows: 2000,
                for: "1h",
                severity: "critical",
              },
              runtimeLatencyP99: { enabled: true, threshold: 0.15, for: "5m", severity: "warning" },
              trainingRunFailed: { enabled: false, for: "0m", severity: "warning" },
              scoringRunFailed: { enabled: true, for: "5m", severity: "critical" },
              scoringRunRejectedRows: {
                enabled: true,
                threshold: 0.02,
                for: "0m",
                severity: "warning",
              },
            },
          },
        },
      });
      const rules = (
        only(tuned, "PrometheusRule").spec.groups as { rules: RenderedRule[] }[]
      ).flatMap((g) => g.rules);
      const drift = rules.find((r) => r.alert === "ChurnModelFeatureDrift");
      expect(drift?.expr).toMatch(/churn_feature_drift_psi\{[^}]*\} > 0\.4\b/);
      expect(drift?.expr).toMatch(/churn_drift_window_rows\{[^}]*\} >= 2000\b/);
      expect(drift?.for).toBe("1h");
      expect(drift?.labels).toEqual({ severity: "critical", team: "ml-platform" });
      expect(drift?.annotations.runbook_url).toBe(
        "https://runbooks.example/churn#churnmodelfeaturedrift",
      );
      expect(rules.find((r) => r.alert === "ChurnModelHighLatency")?.expr).toMatch(
        /\) > 0\.15\s*$/,
      );
      expect(rules.map((r) => r.alert)).not.toContain("ChurnTrainingRunFailed");
      const scoringFailed = rules.find((r) => r.alert === "ChurnScoringRunFailed");
      expect(scoringFailed?.for).toBe("5m");
      expect(scoringFailed?.labels).toEqual({ severity: "critical", team: "ml-platform" });
      expect(scoringFailed?.annotations.runbook_url).toBe(
        "https://runbooks.example/churn#churnscoringrunfailed",
      );
      const rejected = rules.find((r) => r.alert === "ChurnScoringRunRejectedRows");
      expect(rejected?.expr).toMatch(/\) > 0\.02\s+unless on \(\)/);
      expect(rejected?.annotations.runbook_url).toBe(
        "https://runbooks.example/churn#churnscoringrunrejectedrows",
      );
      // Rule annotations keep Prometheus's own templates, not Helm's.
      expect(drift?.annotations.summary).toContain("{{ $labels.feature }}");
    });
  });
});

describe("grafana dashboard values", () => {
  it("can be turned off or placed in Grafana's namespace with a folder annotation", () => {
    expect(
      renderChart(helm, { values: { grafana: { dashboards: { enabled: false } } } }).map(
        (o) => o.kind,
      ),
    ).not.toContain("ConfigMap");
    const cm = only(
      renderChart(helm, {
        values: {
          grafana: {
            dashboards: {
              enabled: true,
              namespace: "monitoring",
              annotations: { grafana_folder: "Churn" },
            },
          },
        },
      }),
      "ConfigMap",
    );
    expect(cm.metadata.namespace).toBe("monitoring");
    expect(cm.metadata.annotations).toEqual({ grafana_folder: "Churn" });
  });
});

describe("promqlSelectors", () => {
  it("parses with Prometheus's grammar: metric names and matchers, never functions or label lists", () => {
    expect(
      promqlSelectors(
        'histogram_quantile(0.99, sum by (le, route) (rate(http_request_duration_seconds_bucket{route=~"/v1/.+",namespace=~"$namespace"}[$__rate_interval])))',
      ),
    ).toEqual([
      {
        metric: "http_request_duration_seconds_bucket",
        matchers: [
          { label: "route", op: "=~", value: "/v1/.+" },
          { label: "namespace", op: "=~", value: "$namespace" },
        ],
      },
    ]);
    expect(
      promqlSelectors(
        'a_total / on (pod) group_left (x) b{c="d,e}"} > 1e3 and {__name__="c_seconds"} or vector(0)',
      ).map((s) => s.metric),
    ).toEqual(["a_total", "b", "c_seconds"]);
    expect(() => promqlSelectors("sum(rate(x[5m])")).toThrow(/PromQL syntax error/);
    expect(() => promqlSelectors("x{y}")).toThrow(/label matcher without MatchOp/);
  });
});
