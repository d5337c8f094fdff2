import { pvcArtifactUri } from "../../api/artifact-uri.js";
import type { ConditionUpdate } from "../../api/condition.js";
import { type Reason, Reasons } from "../../api/reasons.js";
import type { TrainingMetrics, TrainingRunPhase } from "../../api/training-run.js";
import { parseTrainerSummary, type TrainerSummary } from "./trainer-summary.js";
import type { JobObservation, PodObservation } from "./training-observation.js";

/** Trainer exit codes (the trainer's CLI contract). */
export const TrainerExit = { ok: 0, other: 1, dataValidation: 2, gate: 3 } as const;

/** The status a TrainingRun should have, decided from what was observed. */
export interface TrainingOutcome {
  phase: TrainingRunPhase;
  reason: Reason;
  message: string;
  terminal: boolean;
  conditions: ConditionUpdate[];
  failedChecks?: string[];
  metrics?: TrainingMetrics;
  model?: { uri: string; digest: string };
  attempts: number;
  startTime?: string;
  completionTime?: string;
}

const METRIC_KEYS = [
  "rocAuc",
  "prAuc",
  "f1",
  "f2",
  "precision",
  "recall",
  "accuracy",
  "logLoss",
  "brier",
  "threshold",
] as const;

/**
 * Decides a TrainingRun's phase, conditions and results from its Job and pods. Pure: the
 * controller gathers the inputs and writes the result. Data and gate failures are terminal
 * (the Job's pod failure policy fails it at once); other failures are retried by the Job
 * until its backoff limit or deadline.
 */
export function decideTrainingOutcome(
  job: JobObservation | undefined,
  pods: readonly PodObservation[],
  modelStorePvc: string,
  generation: number,
): TrainingOutcome {
  const cond = (type: string, status: ConditionUpdate["status"], reason: Reason, message: string) =>
    ({ type, status, reason, message, observedGeneration: generation }) as ConditionUpdate;
  const failedPods = pods.filter((p) => p.terminated && p.terminated.exitCode !== 0);
  const attempts = failedPods.length;
  const base = { attempts, startTime: job?.startTime };

  if (!job) {
    return {
      ...base,
      phase: "Pending",
      reason: Reasons.NotStarted,
      message: "creating the training Job",
      terminal: false,
      conditions: [cond("Succeeded", "Unknown", Reasons.NotStarted, "training has not started")],
    };
  }

  const finished = job.conditions.find(
    (c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True",
  );
  const latest = newest(pods.filter((p) => p.terminated));
  const completionTime = finished?.time ?? job.completionTime;

  if (finished?.type === "Complete") {
    const ok = newest(pods.filter((p) => p.terminated?.exitCode === 0));
    const summary = parseTrainerSummary(ok?.terminated?.message);
    if ("error" in summary || !summary.digest) {
      const why = "error" in summary ? summary.error : "the trainer's summary has no digest";
      return {
        ...base,
        completionTime,
        phase: "Failed",
        reason: Reasons.OutcomeUnreadable,
        message: `the trainer finished but its outcome cannot be read: ${why}`,
        terminal: true,
        conditions: [cond("Succeeded", "False", Reasons.OutcomeUnreadable, why)],
      };
    }
    const metrics = metricsOf(summary);
    const auc = metrics.rocAuc === undefined ? "" : ` (ROC-AUC ${metrics.rocAuc.toFixed(4)})`;
    return {
      ...base,
      completionTime,
      phase: "Succeeded",
      reason: Reasons.Succeeded,
      message: `model ${summary.digest.slice(0, 12)} passed every check and gate${auc}`,
      terminal: true,
      metrics,
      failedChecks: [],
      model: { uri: pvcArtifactUri(modelStorePvc, summary.digest), digest: summary.digest },
      conditions: [
        cond("DataValidated", "True", Reasons.DataValidated, "every data check passed"),
        cond("Trained", "True", Reasons.Trained, "the model was trained and exported"),
        cond("ModelValidated", "True", Reasons.GatesPassed, "parity and every metric gate passed"),
        cond("Succeeded", "True", Reasons.Succeeded, `artifact ${summary.digest}`),
      ],
    };
  }

  const exit = latest?.terminated?.exitCode;
  const summary = latest ? parseTrainerSummary(latest.terminated?.message) : undefined;
  const parsed = summary && !("error" in summary) ? summary : undefined;

  if (exit === TrainerExit.dataValidation || exit === TrainerExit.gate) {
    // Terminal whether or not the Job has caught up: the pod failure policy fails it anyway.
    const data = exit === TrainerExit.dataValidation;
    const checks = parsed?.failedChecks ?? [];
    const what = checks.length ? checks.join("; ") : (parsed?.message ?? "see the trainer log");
    const reason = data ? Reasons.DataValidationFailed : gateReason(checks);
    const message = data ? `data validation failed: ${what}` : `a gate failed: ${what}`;
    return {
      ...base,
      completionTime: completionTime ?? latest?.terminated?.finishedAt,
      phase: "Failed",
      reason,
      message,
      terminal: true,
      failedChecks: checks,
      metrics: parsed ? metricsOf(parsed) : undefined,
      conditions: data
        ? [
            cond("DataValidated", "False", reason, message),
            cond("Succeeded", "False", reason, message),
          ]
        : [
            cond("DataValidated", "True", Reasons.DataValidated, "every data check passed"),
            cond("Trained", "True", Reasons.Trained, "the model was trained and exported"),
            cond("ModelValidated", "False", reason, message),
            cond("Succeeded", "False", reason, message),
          ],
    };
  }

  if (finished?.type === "Failed") {
    const reason =
      finished.reason === "DeadlineExceeded"
        ? Reasons.DeadlineExceeded
        : finished.reason === "BackoffLimitExceeded"
          ? Reasons.BackoffLimitExceeded
          : Reasons.TrainingFailed;
    const detail = crashDetail(latest, parsed);
    const message = `${finished.message ?? finished.reason ?? "the training Job failed"}${detail}`;
    return {
      ...base,
      completionTime,
      phase: "Failed",
      reason,
      message,
      terminal: true,
      failedChecks: parsed?.failedChecks,
      conditions: [
        cond("Trained", "False", reason, message),
        cond("Succeeded", "False", reason, message),
      ],
    };
  }

  const current = newest(pods.filter((p) => !p.terminated));
  if (!current && latest?.terminated?.exitCode === TrainerExit.ok) {
    // The trainer exited 0; the Job controller has not marked the Job Complete yet.
    const message = "the trainer finished; waiting for the Job to complete";
    return {
      ...base,
      phase: "Training",
      reason: Reasons.TrainerRunning,
      message,
      terminal: false,
      conditions: [cond("Succeeded", "Unknown", Reasons.TrainerRunning, message)],
    };
  }
  if (attempts > 0 && (!current || !current.running)) {
    const message = `trainer attempt ${attempts} failed${crashDetail(latest, parsed)}; retrying`;
    return {
      ...base,
      phase: "Training",
      reason: Reasons.TrainerRetrying,
      message,
      terminal: false,
      conditions: [cond("Succeeded", "Unknown", Reasons.TrainerRetrying, message)],
    };
  }
  if (current?.running) {
    const message = "the trainer is validating the data, training and evaluating";
    return {
      ...base,
      phase: "Training",
      reason: Reasons.TrainerRunning,
      message,
      terminal: false,
      conditions: [cond("Succeeded", "Unknown", Reasons.TrainerRunning, message)],
    };
  }
  const waiting = current?.waiting ? `: ${current.waiting.reason}` : "";
  const message = `waiting for the trainer pod to start${waiting}`;
  return {
    ...base,
    phase: "Pending",
    reason: Reasons.TrainerPending,
    message,
    terminal: false,
    conditions: [cond("Succeeded", "Unknown", Reasons.TrainerPending, message)],
  };
}

function metricsOf(s: TrainerSummary): TrainingMetrics {
  const out: TrainingMetrics = {};
  for (const k of METRIC_KEYS) {
    const v = s.metrics[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

function gateReason(checks: readonly string[]): Reason {
  return checks.some((c) => /parity/i.test(c)) ? Reasons.ParityFailed : Reasons.GateFailed;
}

function crashDetail(pod: PodObservation | undefined, s: TrainerSummary | undefined): string {
  const t = pod?.terminated;
  if (!t) return "";
  const why = s?.message ?? t.reason ?? "";
  return ` (exit code ${t.exitCode}${why ? `: ${why}` : ""})`;
}

function newest(pods: readonly PodObservation[]): PodObservation | undefined {
  return [...pods].sort((a, b) =>
    a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0,
  )[0];
}
