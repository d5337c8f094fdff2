import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { ensureHelm } from "./helm-binary.js";
import { ensurePromtool } from "./promtool-binary.js";
import { MONITORING_APIS, only, renderChart } from "./render-chart.js";

// The chart's alerts evaluated by Prometheus itself: `promtool check rules` on the rendered
// PrometheusRule, then `promtool test rules` feeding synthetic series shaped like the operator's
// and the runtime's (as the PodMonitor labels them), asserting which alerts fire, with which
// labels and which text, and which stay quiet.

let helm: string;
let promtool: string;
let dir: string;
// Cold builds of helm and promtool take minutes on a busy 2-core machine; later runs reuse them.
beforeAll(async () => {
  [helm, promtool] = await Promise.all([ensureHelm(), ensurePromtool()]);
  dir = mkdtempSync(join(tmpdir(), "chart-alerts-"));
}, 1_800_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Writes the chart's rendered rule groups as a Prometheus rule file. */
function ruleFile(values: Record<string, unknown> = {}): string {
  const rule = only(renderChart(helm, { apiVersions: MONITORING_APIS, values }), "PrometheusRule");
  const file = join(dir, "rules.yaml");
  writeFileSync(file, stringify({ groups: rule.spec.groups }));
  return file;
}

function promtoolRun(args: string[]) {
  const res = spawnSync(promtool, args, { cwd: dir, encoding: "utf8" });
  if (res.error) throw res.error;
  return { status: res.status ?? 1, out: `${res.stdout}${res.stderr}` };
}

const OP = 'job="churn-churn-operator-metrics",namespace="churn-system"';
const series = (s: string, values: string) => ({ series: s, values });
const rt = (labels: string) => `namespace="team-a",churn_model="bank",${labels}`;

/** One promtool unit test: input series and, per alert and time, the alerts expected. */
interface AlertCase {
  input_series: { series: string; values: string }[];
  alert_rule_test: {
    eval_time: string;
    alertname: string;
    exp_alerts: { exp_labels: Record<string, string>; exp_annotations: Record<string, string> }[];
  }[];
}

const cases: Record<string, AlertCase> = {
  "reconcile errors: the failing controller only": {
    input_series: [
      series(
        `controller_runtime_reconcile_total{${OP},controller="trainingrun",result="success"}`,
        "0+10x40",
      ),
      series(
        `controller_runtime_reconcile_total{${OP},controller="trainingrun",result="error"}`,
        "0+5x40",
      ),
      series(`controller_runtime_reconcile_errors_total{${OP},controller="trainingrun"}`, "0+5x40"),
      series(
        `controller_runtime_reconcile_total{${OP},controller="churnmodel",result="success"}`,
        "0+10x40",
      ),
      series(`controller_runtime_reconcile_errors_total{${OP},controller="churnmodel"}`, "0x40"),
    ],
    alert_rule_test: [
      { eval_time: "10m", alertname: "ChurnOperatorReconcileErrors", exp_alerts: [] },
      {
        eval_time: "30m",
        alertname: "ChurnOperatorReconcileErrors",
        exp_alerts: [
          {
            exp_labels: {
              severity: "warning",
              namespace: "churn-system",
              controller: "trainingrun",
            },
            exp_annotations: {
              summary: "The churn operator's trainingrun controller keeps failing to reconcile.",
              description:
                "33.33% of trainingrun reconciles failed over 10 minutes (threshold 0.1). The operator's logs name each failing object and error.",
            },
          },
        ],
      },
    ],
  },
  "no leader: fires when no replica leads, quiet when one does": {
    input_series: [
      series(
        `leader_election_master_status{${OP},pod="op-a",name="churn-churn-operator"}`,
        "0x20 1x20",
      ),
      series(`leader_election_master_status{${OP},pod="op-b",name="churn-churn-operator"}`, "0x40"),
    ],
    alert_rule_test: [
      {
        eval_time: "10m",
        alertname: "ChurnOperatorNoLeader",
        exp_alerts: [
          {
            exp_labels: { severity: "critical" },
            exp_annotations: {
              summary: "No churn operator replica holds the leader Lease, so nothing reconciles.",
              description:
                "No scraped operator replica reports leader_election_master_status 1. Check the operator pods and the Lease churn-churn-operator in namespace churn-system.",
            },
          },
        ],
      },
      { eval_time: "30m", alertname: "ChurnOperatorNoLeader", exp_alerts: [] },
    ],
  },
  "training run failed: once per failure reason, from the operator's outcome counter": {
    input_series: [
      // Series exist at zero from the operator's start, so the first failure is an increase.
      series(
        `churn_trainingrun_completions_total{${OP},result="failed",reason="DataValidationFailed"}`,
        "0 0 0 1 1 1 2x20",
      ),
      series(
        `churn_trainingrun_completions_total{${OP},result="failed",reason="GateFailed"}`,
        "0x30",
      ),
      series(
        `churn_trainingrun_completions_total{${OP},result="succeeded",reason="Succeeded"}`,
        "0+1x30",
      ),
    ],
    alert_rule_test: [
      { eval_time: "2m", alertname: "ChurnTrainingRunFailed", exp_alerts: [] },
      {
        eval_time: "4m",
        alertname: "ChurnTrainingRunFailed",
        exp_alerts: [
          {
            exp_labels: { severity: "warning", reason: "DataValidationFailed" },
            exp_annotations: {
              summary: "A TrainingRun failed: DataValidationFailed.",
              description:
                "1 TrainingRun(s) failed with reason DataValidationFailed in the last 10 minutes. `kubectl get events -A --field-selector reason=DataValidationFailed` names them; each run's status (message, failedChecks) says why.",
            },
          },
        ],
      },
      // Ten minutes after the last failure, and with only successes, it is quiet again.
      { eval_time: "25m", alertname: "ChurnTrainingRunFailed", exp_alerts: [] },
    ],
  },
  "5xx ratio: the failing variant, scoring routes only": {
    input_series: [
      series(
        `http_requests_total{${rt('variant="canary",route="/v1/score",code="500"')}}`,
        "0+10x30",
      ),
      series(
        `http_requests_total{${rt('variant="canary",route="/v1/score",code="200"')}}`,
        "0+30x30",
      ),
      series(
        `http_requests_total{${rt('variant="stable",route="/v1/score",code="200"')}}`,
        "0+50x30",
      ),
      // Probes answer 503 while loading: not a scoring failure.
      series(
        `http_requests_total{${rt('variant="stable",route="/readyz",code="503"')}}`,
        "0+50x30",
      ),
    ],
    alert_rule_test: [
      {
        eval_time: "20m",
        alertname: "ChurnModelHighErrorRatio",
        exp_alerts: [
          {
            exp_labels: {
              severity: "critical",
              namespace: "team-a",
              churn_model: "bank",
              variant: "canary",
            },
            exp_annotations: {
              summary:
                "ChurnModel team-a/bank (canary) answers too many scoring requests with 5xx.",
              description: "25% of /v1 requests failed with 5xx over 5 minutes (threshold 0.05).",
            },
          },
        ],
      },
    ],
  },
  "p99 latency from http_request_duration_seconds": {
    input_series: [
      ...[
        ["0.1", "0+10x30"],
        ["1", "0+100x30"],
        ["+Inf", "0+100x30"],
      ].map(([le, values]) =>
        series(
          `http_request_duration_seconds_bucket{${rt(`variant="stable",method="POST",route="/v1/score",code="200",le="${le}"`)}}`,
          values as string,
        ),
      ),
      // Slow explanations are not scoring latency.
      series(
        `http_request_duration_seconds_bucket{${rt('variant="stable",method="POST",route="/v1/explain",code="200",le="+Inf"')}}`,
        "0+100x30",
      ),
    ],
    alert_rule_test: [
      {
        eval_time: "20m",
        alertname: "ChurnModelHighLatency",
        exp_alerts: [
          {
            exp_labels: {
              severity: "warning",
              namespace: "team-a",
              churn_model: "bank",
              variant: "stable",
            },
            exp_annotations: {
              summary: "ChurnModel team-a/bank (stable) scores slowly.",
              description: "p99 scoring latency is 990ms over 5 minutes (threshold 0.5s).",
            },
          },
        ],
      },
    ],
  },
  "drift: high PSI on a full window fires, on a thin window does not": {
    input_series: [
      series(
        `churn_feature_drift_psi{${rt('variant="stable",pod="bank-1",feature="Age"')}}`,
        "0.4x45",
      ),
      series(
        `churn_feature_drift_psi{${rt('variant="stable",pod="bank-1",feature="Balance"')}}`,
        "0.05x45",
      ),
      series(`churn_score_drift_psi{${rt('variant="stable",pod="bank-1"')}}`, "0.3x45"),
      series(`churn_drift_window_rows{${rt('variant="stable",pod="bank-1"')}}`, "1000x45"),
      series(
        `churn_feature_drift_psi{${rt('variant="canary",pod="bank-2",feature="Age"')}}`,
        "0.9x45",
      ),
      series(`churn_score_drift_psi{${rt('variant="canary",pod="bank-2"')}}`, "0.9x45"),
      series(`churn_drift_window_rows{${rt('variant="canary",pod="bank-2"')}}`, "100x45"),
    ],
    alert_rule_test: [
      { eval_time: "20m", alertname: "ChurnModelFeatureDrift", exp_alerts: [] },
      {
        eval_time: "40m",
        alertname: "ChurnModelFeatureDrift",
        exp_alerts: [
          {
            exp_labels: {
              severity: "warning",
              namespace: "team-a",
              churn_model: "bank",
              variant: "stable",
              feature: "Age",
            },
            exp_annotations: {
              summary: "Feature Age of ChurnModel team-a/bank drifted from its training data.",
              description:
                "PSI of Age is 0.400 (threshold 0.25) over the drift window. Consider retraining on recent data.",
            },
          },
        ],
      },
      {
        eval_time: "40m",
        alertname: "ChurnModelScoreDrift",
        exp_alerts: [
          {
            exp_labels: {
              severity: "warning",
              namespace: "team-a",
              churn_model: "bank",
              variant: "stable",
            },
            exp_annotations: {
              summary:
                "Predicted churn probabilities of ChurnModel team-a/bank drifted from training.",
              description:
                "PSI of the score distribution is 0.300 (threshold 0.25) over the drift window.",
            },
          },
        ],
      },
    ],
  },
  "model not ready: after 10 minutes, per pod": {
    input_series: [
      series(`churn_model_ready{${rt('variant="stable",pod="bank-1"')}}`, "0x20"),
      series(`churn_model_ready{${rt('variant="stable",pod="bank-2"')}}`, "0 0 1x18"),
    ],
    alert_rule_test: [
      { eval_time: "5m", alertname: "ChurnModelNotReady", exp_alerts: [] },
      {
        eval_time: "15m",
        alertname: "ChurnModelNotReady",
        exp_alerts: [
          {
            exp_labels: {
              severity: "critical",
              namespace: "team-a",
              churn_model: "bank",
              variant: "stable",
              pod: "bank-1",
            },
            exp_annotations: {
              summary: "Pod team-a/bank-1 of ChurnModel bank has no ready model.",
              description:
                "The runtime could not load its artifact or the load-time self-check failed; its /readyz and logs say why.",
            },
          },
        ],
      },
    ],
  },
};

describe("the chart's alerts in Prometheus", () => {
  it("pass promtool check rules, with every optional label and link set", () => {
    const file = ruleFile({
      prometheusRule: {
        enabled: true,
        additionalAlertLabels: { team: "ml-platform" },
        runbookUrlBase: "https://runbooks.example/churn",
      },
    });
    const res = promtoolRun(["check", "rules", file]);
    expect(res.out).toMatch(/SUCCESS: 8 rules found/);
    expect(res.status, res.out).toBe(0);
  });

  it.each(Object.entries(cases))("%s", (_name, test) => {
    const rules = ruleFile();
    const file = join(dir, "tests.yaml");
    writeFileSync(
      file,
      stringify({
        rule_files: [rules],
        evaluation_interval: "1m",
        tests: [{ interval: "1m", ...test }],
      }),
    );
    const res = promtoolRun(["test", "rules", file]);
    expect(res.status, res.out).toBe(0);
    expect(res.out).toMatch(/SUCCESS/);
  });

  it("promtool fails a case whose expectation is wrong (so the cases above can fail)", () => {
    const wrong = structuredClone(cases["model not ready: after 10 minutes, per pod"] as AlertCase);
    const last = wrong.alert_rule_test[1]?.exp_alerts[0];
    if (last) last.exp_labels.pod = "bank-2";
    const file = join(dir, "tests.yaml");
    writeFileSync(
      file,
      stringify({
        rule_files: [ruleFile()],
        evaluation_interval: "1m",
        tests: [{ interval: "1m", ...wrong }],
      }),
    );
    const res = promtoolRun(["test", "rules", file]);
    expect(res.status).not.toBe(0);
    expect(res.out).toMatch(/FAILED/);
  });
});
