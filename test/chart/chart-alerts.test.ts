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

/** `promtool test rules` of one case against the chart's default rules. */
function promtoolTest(test: AlertCase) {
  const file = join(dir, "tests.yaml");
  writeFileSync(
    file,
    stringify({
      rule_files: [ruleFile()],
      evaluation_interval: "1m",
      tests: [{ interval: "1m", ...test }],
    }),
  );
  return promtoolRun(["test", "rules", file]);
}

const OP = 'job="churn-churn-operator-metrics",namespace="churn-system"';
const series = (s: string, values: string) => ({ series: s, values });
const rt = (labels: string) => `namespace="team-a",churn_model="bank",${labels}`;
// Per-ChurnModel rollout series: scraped from the operator with honorLabels, so `namespace` is
// the model's and only the job says they are the operator's.
const ROLLOUT = (model: string, labels: string) =>
  `job="churn-churn-operator-metrics",namespace="team-a",churn_model="${model}",${labels}`;

/** One promtool unit test: input series and, per alert and time, the alerts expected. */
interface AlertCase {
  input_series: { series: string; values: string }[];
  alert_rule_test: {
    eval_time: string;
    alertname: string;
    exp_alerts: { exp_labels: Record<string, string>; exp_annotations: Record<string, string> }[];
  }[];
}

/** Labels of an alert about the ChurnModel team-a/bank. */
const bankLabels = (severity: string, more: Record<string, string> = {}) => ({
  severity,
  namespace: "team-a",
  churn_model: "bank",
  ...more,
});

/** The alert is quiet at `at`. */
const quiet = (alertname: string, at: string) => ({ eval_time: at, alertname, exp_alerts: [] });

/** The alert fires once at `at`, with these labels, summary and description. */
const fires = (
  alertname: string,
  at: string,
  labels: Record<string, string>,
  summary: string,
  description: string,
) => ({
  eval_time: at,
  alertname,
  exp_alerts: [{ exp_labels: labels, exp_annotations: { summary, description } }],
});

/** ChurnScoringRunFailed's description for one failure of `reason`. */
const scoringRunFailedText = (reason: string) =>
  `1 ScoringRun(s) failed with reason ${reason} in the last 10 minutes. \`kubectl get events -A --field-selector involvedObject.kind=ScoringRun,reason=${reason}\` names them; each run's status.message names the failed shard or check, and \`kubectl get scoringruns -A\` its shards and rows.`;

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
      quiet("ChurnOperatorReconcileErrors", "10m"),
      fires(
        "ChurnOperatorReconcileErrors",
        "30m",
        {
          severity: "warning",
          namespace: "churn-system",
          controller: "trainingrun",
        },
        "The churn operator's trainingrun controller keeps failing to reconcile.",
        "33.33% of trainingrun reconciles failed over 10 minutes (threshold 0.1). The operator's logs name each failing object and error.",
      ),
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
      fires(
        "ChurnOperatorNoLeader",
        "10m",
        { severity: "critical" },
        "No churn operator replica holds the leader Lease, so nothing reconciles.",
        "No scraped operator replica reports leader_election_master_status 1. Check the operator pods and the Lease churn-churn-operator in namespace churn-system.",
      ),
      quiet("ChurnOperatorNoLeader", "30m"),
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
      quiet("ChurnTrainingRunFailed", "2m"),
      fires(
        "ChurnTrainingRunFailed",
        "4m",
        { severity: "warning", reason: "DataValidationFailed" },
        "A TrainingRun failed: DataValidationFailed.",
        "1 TrainingRun(s) failed with reason DataValidationFailed in the last 10 minutes. `kubectl get events -A --field-selector involvedObject.kind=TrainingRun,reason=DataValidationFailed` names them; each run's status (message, failedChecks) says why.",
      ),
      // Ten minutes after the last failure, and with only successes, it is quiet again.
      quiet("ChurnTrainingRunFailed", "25m"),
    ],
  },
  "scoring run failed: once per reason, a series first seen at its first count too": {
    input_series: [
      // A shard fails for good at 3m; the operator created this reason's series at zero.
      series(
        `churn_scoringrun_completions_total{${OP},result="failed",reason="ShardFailed"}`,
        "0 0 0 1x27",
      ),
      // A series that first appears at 1 (15m), as a new operator pod's does when it ended a run
      // before Prometheus first scraped it (its series are created at zero, but unseen till then).
      series(
        `churn_scoringrun_completions_total{${OP},result="failed",reason="InputChanged"}`,
        "_x15 1x15",
      ),
      series(
        `churn_scoringrun_completions_total{${OP},result="failed",reason="RejectLimitExceeded"}`,
        "0x30",
      ),
      series(
        `churn_scoringrun_completions_total{${OP},result="succeeded",reason="Succeeded"}`,
        "0+1x30",
      ),
    ],
    alert_rule_test: [
      quiet("ChurnScoringRunFailed", "2m"),
      fires(
        "ChurnScoringRunFailed",
        "5m",
        { severity: "warning", reason: "ShardFailed" },
        "A ScoringRun failed: ShardFailed.",
        scoringRunFailedText("ShardFailed"),
      ),
      // The ShardFailed failure has left the window; the new series is counted from 0.
      fires(
        "ChurnScoringRunFailed",
        "17m",
        { severity: "warning", reason: "InputChanged" },
        "A ScoringRun failed: InputChanged.",
        scoringRunFailedText("InputChanged"),
      ),
      quiet("ChurnScoringRunFailed", "28m"),
    ],
  },
  "scoring run rejected rows: a large share warns; a small one, a run failed for its limit and an old run do not":
    {
      input_series: [
        // Runs end at 3m (100 of 10,000 rows rejected), 20m (10 of 10,000) and 35m (5,000 of
        // 10,000, failed with RejectLimitExceeded); the operator adds their rows as each ends.
        series(
          `churn_scoringrun_rows_total{${OP},outcome="scored"}`,
          "0x2 9900x16 19890x14 24890x10",
        ),
        series(
          `churn_scoringrun_rows_total{${OP},outcome="rejected"}`,
          "0x2 100x16 110x14 5110x10",
        ),
        series(
          `churn_scoringrun_completions_total{${OP},result="succeeded",reason="Succeeded"}`,
          "0x2 1x16 2x25",
        ),
        series(
          `churn_scoringrun_completions_total{${OP},result="failed",reason="RejectLimitExceeded"}`,
          "0x34 1x10",
        ),
      ],
      alert_rule_test: [
        quiet("ChurnScoringRunRejectedRows", "2m"),
        fires(
          "ChurnScoringRunRejectedRows",
          "5m",
          { severity: "warning" },
          "ScoringRuns rejected 1% of their rows: those customers have no score.",
          "1% of the rows of the ScoringRuns that ended in the last 10 minutes were rejected (threshold 0.005), under each run's own limit (maxRejectedPercent, maxRejectedRows). `kubectl get scoringruns -A` shows each run's Scored and Rejected rows; the rejects-<index>.csv files beside its part files give each bad row's position, id and reason.",
        ),
        // No run ended in the window (0 of 0 rows): quiet.
        quiet("ChurnScoringRunRejectedRows", "15m"),
        // 0.1% rejected: under the threshold.
        quiet("ChurnScoringRunRejectedRows", "22m"),
        // Half the rows rejected, but that run failed for its reject limit: ChurnScoringRunFailed's.
        quiet("ChurnScoringRunRejectedRows", "37m"),
        fires(
          "ChurnScoringRunFailed",
          "37m",
          { severity: "warning", reason: "RejectLimitExceeded" },
          "A ScoringRun failed: RejectLimitExceeded.",
          scoringRunFailedText("RejectLimitExceeded"),
        ),
      ],
    },
  "rollback: once per reason, naming the models and the failed analysis metrics": {
    input_series: [
      // The operator starts every outcome's series at zero; a canary is rolled back at 16m.
      series(`churn_rollouts_total{${OP},outcome="RolledBack",reason="RolledBack"}`, "0x15 1x15"),
      series(`churn_rollouts_total{${OP},outcome="Promoted",reason="Promoted"}`, "0x10 1x20"),
      series(`churn_rollouts_total{${OP},outcome="Aborted",reason="Aborted"}`, "0 0 1x28"),
      series(`churn_rollout_phase{${ROLLOUT("bank", 'phase="Progressing"')}}`, "1x15 0x15"),
      series(`churn_rollout_phase{${ROLLOUT("bank", 'phase="RolledBack"')}}`, "0x15 1x15"),
      // A model rolled back long before the window is not this alert's.
      series(`churn_rollout_phase{${ROLLOUT("old", 'phase="RolledBack"')}}`, "1x30"),
      // The first Fail of a metric creates its series at 1.
      series(
        `churn_rollout_analysis_total{${OP},metric="successRate",verdict="Fail"}`,
        "_x16 1x14",
      ),
      series(`churn_rollout_analysis_total{${OP},metric="successRate",verdict="Pass"}`, "0+1x30"),
      series(`churn_rollout_analysis_total{${OP},metric="latencyP99Ms",verdict="Pass"}`, "0+1x30"),
    ],
    alert_rule_test: [
      // Zeros only, in series younger than the window too (the first 10 minutes): quiet.
      quiet("ChurnRolloutRolledBack", "5m"),
      quiet("ChurnRolloutRolledBack", "15m"),
      fires(
        "ChurnRolloutRolledBack",
        "19m",
        { severity: "warning", reason: "RolledBack" },
        "A ChurnModel canary was rolled back: RolledBack.",
        "1 rollout(s) ended RolledBack with reason RolledBack in the last 10 minutes; the stable version answers all traffic again. Rolled back: team-a/bank. Failed analysis metrics: successRate. `kubectl churn status <name>` and the ChurnModel's status.rollout.message give each failed metric's value and threshold.",
      ),
      quiet("ChurnRolloutRolledBack", "30m"),
    ],
  },
  "rollback: a reason the operator never counted before (its series starts at 1) still fires": {
    input_series: [
      series(`churn_rollouts_total{${OP},outcome="RolledBack",reason="RolledBack"}`, "0x30"),
      series(
        `churn_rollouts_total{${OP},outcome="RolledBack",reason="NoVerdict"}`,
        "_ _ _ _ _ _ _ _ _ _ _ _ 1x18",
      ),
    ],
    alert_rule_test: [
      quiet("ChurnRolloutRolledBack", "10m"),
      fires(
        "ChurnRolloutRolledBack",
        "15m",
        { severity: "warning", reason: "NoVerdict" },
        "A ChurnModel canary was rolled back: NoVerdict.",
        "1 rollout(s) ended RolledBack with reason NoVerdict in the last 10 minutes; the stable version answers all traffic again. `kubectl churn status <name>` and the ChurnModel's status.rollout.message give each failed metric's value and threshold.",
      ),
      // Ten minutes on, the count has not moved: quiet.
      quiet("ChurnRolloutRolledBack", "28m"),
    ],
  },
  "inconclusive: a rollout held without a verdict for 15 minutes, with its weight": {
    input_series: [
      series(`churn_rollout_phase{${ROLLOUT("bank", 'phase="Inconclusive"')}}`, "0 0 1x28"),
      series(`churn_rollout_phase{${ROLLOUT("bank", 'phase="Progressing"')}}`, "1 1 0x28"),
      series(`churn_rollout_canary_weight{${ROLLOUT("bank", "")}}`.replace(",}", "}"), "10x30"),
      // Inconclusive for a few minutes, then verdicts again: never fires.
      series(`churn_rollout_phase{${ROLLOUT("fraud", 'phase="Inconclusive"')}}`, "1x5 0x25"),
      series(`churn_rollout_phase{${ROLLOUT("fraud", 'phase="Progressing"')}}`, "0x5 1x25"),
    ],
    alert_rule_test: [
      quiet("ChurnRolloutStuckInconclusive", "10m"),
      fires(
        "ChurnRolloutStuckInconclusive",
        "20m",
        bankLabels("warning"),
        "The rollout of ChurnModel team-a/bank has had no analysis verdict for 15m.",
        "Its canary is held at 10% of requests, neither promoted nor rolled back: analysis has too few requests per variant, no data, or cannot reach its metrics provider. The ChurnModel's status.rollout.analysis and its AnalysisInconclusive events say which; send traffic, fix the provider, or `kubectl churn abort bank`.",
      ),
    ],
  },
  "router config rejected: from the first rejection of a router pod": {
    input_series: [
      series(
        `churn_router_config_reloads_total{${rt('pod="bank-router-1",result="applied"')}}`,
        "1x30",
      ),
      // The rejected series appears with the first rejection, at 1.
      series(
        `churn_router_config_reloads_total{${rt('pod="bank-router-1",result="rejected"')}}`,
        "_ _ _ 1 1 1 2x24",
      ),
      series(
        `churn_router_config_reloads_total{namespace="team-a",churn_model="fraud",pod="fraud-router-1",result="applied"}`,
        "1+1x30",
      ),
    ],
    alert_rule_test: [
      quiet("ChurnRouterConfigRejected", "2m"),
      fires(
        "ChurnRouterConfigRejected",
        "8m",
        bankLabels("warning"),
        "The router of ChurnModel team-a/bank refuses its traffic configuration.",
        "Router pods refused 2 traffic configuration(s) in the last 10 minutes and keep routing by the last valid one, so weight changes, a rollback's too, do not reach them. Their logs name each faulty field; a hand-edited traffic ConfigMap or an operator and runtime image of different versions are the usual causes.",
      ),
      quiet("ChurnRouterConfigRejected", "25m"),
    ],
  },
  "5xx ratio: the failing version, scoring routes only": {
    input_series: [
      series(
        `http_requests_total{${rt('model_version="b2c3d4e5f6",route="/v1/score",code="500"')}}`,
        "0+10x30",
      ),
      series(
        `http_requests_total{${rt('model_version="b2c3d4e5f6",route="/v1/score",code="200"')}}`,
        "0+30x30",
      ),
      series(
        `http_requests_total{${rt('model_version="a1b2c3d4e5",route="/v1/score",code="200"')}}`,
        "0+50x30",
      ),
      // Probes answer 503 while loading: not a scoring failure.
      series(
        `http_requests_total{${rt('model_version="a1b2c3d4e5",route="/readyz",code="503"')}}`,
        "0+50x30",
      ),
    ],
    alert_rule_test: [
      fires(
        "ChurnModelHighErrorRatio",
        "20m",
        bankLabels("critical", { model_version: "b2c3d4e5f6" }),
        "ChurnModel team-a/bank (version b2c3d4e5f6) answers too many scoring requests with 5xx.",
        "25% of /v1 requests failed with 5xx over 5 minutes (threshold 0.05).",
      ),
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
          `http_request_duration_seconds_bucket{${rt(`model_version="a1b2c3d4e5",method="POST",route="/v1/score",code="200",le="${le}"`)}}`,
          values as string,
        ),
      ),
      // Slow explanations are not scoring latency.
      series(
        `http_request_duration_seconds_bucket{${rt('model_version="a1b2c3d4e5",method="POST",route="/v1/explain",code="200",le="+Inf"')}}`,
        "0+100x30",
      ),
    ],
    alert_rule_test: [
      fires(
        "ChurnModelHighLatency",
        "20m",
        bankLabels("warning", { model_version: "a1b2c3d4e5" }),
        "ChurnModel team-a/bank (version a1b2c3d4e5) scores slowly.",
        "p99 scoring latency is 990ms over 5 minutes (threshold 0.5s).",
      ),
    ],
  },
  "drift: high PSI on a full window fires, on a thin window does not": {
    input_series: [
      series(
        `churn_feature_drift_psi{${rt('model_version="a1b2c3d4e5",pod="bank-1",feature="Age"')}}`,
        "0.4x45",
      ),
      series(
        `churn_feature_drift_psi{${rt('model_version="a1b2c3d4e5",pod="bank-1",feature="Balance"')}}`,
        "0.05x45",
      ),
      series(`churn_score_drift_psi{${rt('model_version="a1b2c3d4e5",pod="bank-1"')}}`, "0.3x45"),
      series(
        `churn_drift_window_rows{${rt('model_version="a1b2c3d4e5",pod="bank-1"')}}`,
        "1000x45",
      ),
      series(
        `churn_feature_drift_psi{${rt('model_version="b2c3d4e5f6",pod="bank-2",feature="Age"')}}`,
        "0.9x45",
      ),
      series(`churn_score_drift_psi{${rt('model_version="b2c3d4e5f6",pod="bank-2"')}}`, "0.9x45"),
      series(`churn_drift_window_rows{${rt('model_version="b2c3d4e5f6",pod="bank-2"')}}`, "100x45"),
    ],
    alert_rule_test: [
      quiet("ChurnModelFeatureDrift", "20m"),
      fires(
        "ChurnModelFeatureDrift",
        "40m",
        bankLabels("warning", { model_version: "a1b2c3d4e5", feature: "Age" }),
        "Feature Age of ChurnModel team-a/bank drifted from its training data.",
        "PSI of Age is 0.400 (threshold 0.25) over the drift window. Consider retraining on recent data.",
      ),
      fires(
        "ChurnModelScoreDrift",
        "40m",
        bankLabels("warning", { model_version: "a1b2c3d4e5" }),
        "Predicted churn probabilities of ChurnModel team-a/bank drifted from training.",
        "PSI of the score distribution is 0.300 (threshold 0.25) over the drift window.",
      ),
    ],
  },
  "model not ready: after 10 minutes, per pod": {
    input_series: [
      series(`churn_model_ready{${rt('model_version="a1b2c3d4e5",pod="bank-1"')}}`, "0x20"),
      series(`churn_model_ready{${rt('model_version="a1b2c3d4e5",pod="bank-2"')}}`, "0 0 1x18"),
    ],
    alert_rule_test: [
      quiet("ChurnModelNotReady", "5m"),
      fires(
        "ChurnModelNotReady",
        "15m",
        bankLabels("critical", { model_version: "a1b2c3d4e5", pod: "bank-1" }),
        "Pod team-a/bank-1 of ChurnModel bank has no ready model.",
        "The runtime could not load its artifact or the load-time self-check failed; its /readyz and logs say why.",
      ),
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
    expect(res.out).toMatch(/SUCCESS: 13 rules found/);
    expect(res.status, res.out).toBe(0);
  });

  it.each(Object.entries(cases))("%s", (_name, test) => {
    const res = promtoolTest(test);
    expect(res.status, res.out).toBe(0);
    expect(res.out).toMatch(/SUCCESS/);
  });

  it("promtool fails a case whose expectation is wrong (so the cases above can fail)", () => {
    const wrong = structuredClone(cases["model not ready: after 10 minutes, per pod"] as AlertCase);
    const last = wrong.alert_rule_test[1]?.exp_alerts[0];
    if (last) last.exp_labels.pod = "bank-2";
    const res = promtoolTest(wrong);
    expect(res.status).not.toBe(0);
    expect(res.out).toMatch(/FAILED/);
  });
});
