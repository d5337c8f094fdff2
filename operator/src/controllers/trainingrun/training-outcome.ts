import type { ConditionUpdate } from "../../api/condition.js";
import { ConditionTypes } from "../../api/condition-types.js";
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

/** Which container of a trainer pod ended it: the data validator or the trainer. */
type Stage = "validate" | "train";

/** How a pod ended: the first container that exited non-zero, else the trainer's exit. */
interface PodExit {
  stage: Stage;
  exitCode: number;
  reason?: string;
  message?: string;
  finishedAt?: string;
}

function exitOf(p: PodObservation): PodExit | undefined {
  const v = p.validator?.terminated;
  if (v && v.exitCode !== TrainerExit.ok) return { stage: "validate", ...v };
  return p.terminated ? { stage: "train", ...p.terminated } : undefined;
}

/** What one decision step reads: the Job, its pods, and what they have said so far. */
interface Observed {
  job: JobObservation;
  cond: (
    type: string,
    status: ConditionUpdate["status"],
    reason: Reason,
    message: string,
  ) => ConditionUpdate;
  base: { attempts: number; startTime?: string };
  attempts: number;
  finished?: JobObservation["conditions"][number];
  completionTime?: string;
  pods: readonly PodObservation[];
  /** The newest pod that has ended, and how. */
  latest?: PodObservation;
  latestExit?: PodExit;
  /** The ended pod's summary line, when it parses. */
  parsed?: TrainerSummary;
  /** The newest pod still going. */
  current?: PodObservation;
}

/** One step of the decision: an outcome, or undefined to let the next step decide. */
type Decider = (o: Observed) => TrainingOutcome | undefined;

/**
 * Decides a TrainingRun's phase, conditions and results from its Job and pods. Pure: the
 * controller gathers the inputs and writes the result. Each pod validates the data in an init
 * container (phase Validating; DataValidated from its summary), then trains (phase Training;
 * Trained and ModelValidated from the trainer's summary). Data and gate failures are terminal
 * (the Job's pod failure policy fails it at once); other failures are retried by the Job until
 * its backoff limit or deadline. Pods without a validator (Jobs of older operators) are read
 * as the trainer alone.
 */
export function decideTrainingOutcome(
  job: JobObservation | undefined,
  pods: readonly PodObservation[],
  artifactUri: (digest: string) => string,
  generation: number,
): TrainingOutcome {
  const cond = (type: string, status: ConditionUpdate["status"], reason: Reason, message: string) =>
    ({ type, status, reason, message, observedGeneration: generation }) as ConditionUpdate;
  const attempts = pods.filter((p) => {
    const e = exitOf(p);
    return e !== undefined && e.exitCode !== TrainerExit.ok;
  }).length;
  if (!job) {
    return {
      attempts,
      phase: "Pending",
      reason: Reasons.NotStarted,
      message: "creating the training Job",
      terminal: false,
      conditions: [
        cond(ConditionTypes.Succeeded, "Unknown", Reasons.NotStarted, "training has not started"),
      ],
    };
  }
  const o = observe(job, pods, cond, attempts);
  const steps: Decider[] = [
    (x) => completed(x, artifactUri),
    dataOrGateFailed,
    jobFailed,
    trainerExitedOk,
    retrying,
    validating,
    training,
    waitingForTrainer,
  ];
  for (const step of steps) {
    const outcome = step(o);
    if (outcome) return outcome;
  }
  return podPending(o);
}

function observe(
  job: JobObservation,
  pods: readonly PodObservation[],
  cond: Observed["cond"],
  attempts: number,
): Observed {
  const finished = job.conditions.find(
    (c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True",
  );
  const latest = newest(pods.filter((p) => exitOf(p)));
  const latestExit = latest ? exitOf(latest) : undefined;
  const summary = latestExit ? parseTrainerSummary(latestExit.message) : undefined;
  return {
    job,
    cond,
    attempts,
    base: { attempts, startTime: job.startTime },
    finished,
    completionTime: finished?.time ?? job.completionTime,
    pods,
    latest,
    latestExit,
    parsed: summary && !("error" in summary) ? summary : undefined,
    current: newest(pods.filter((p) => !exitOf(p))),
  };
}

/** DataValidated=True for a pod whose data passed, with the validator's numbers if it ran. */
function validated(o: Observed, p: PodObservation | undefined): ConditionUpdate {
  return o.cond(ConditionTypes.DataValidated, "True", Reasons.DataValidated, passedMessage(p));
}

/** The Job completed: Succeeded with the artifact, or unreadable if the summary is. */
function completed(
  o: Observed,
  artifactUri: (digest: string) => string,
): TrainingOutcome | undefined {
  if (o.finished?.type !== "Complete") return undefined;
  const { cond, base, completionTime } = o;
  const ok = newest(o.pods.filter((p) => p.terminated?.exitCode === TrainerExit.ok));
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
      conditions: [cond(ConditionTypes.Succeeded, "False", Reasons.OutcomeUnreadable, why)],
    };
  }
  const metrics = metricsOf(summary);
  const auc = metrics.rocAuc === undefined ? "" : ` (ROC-AUC ${metrics.rocAuc.toFixed(4)})`;
  const worst = metrics.worstSegment
    ? `; worst segment ${metrics.worstSegment.name} F2 ${metrics.worstSegment.f2.toFixed(4)}`
    : "";
  return {
    ...base,
    completionTime,
    phase: "Succeeded",
    reason: Reasons.Succeeded,
    message: `model ${summary.digest.slice(0, 12)} passed every check and gate${auc}${worst}`,
    terminal: true,
    metrics,
    failedChecks: [],
    model: { uri: artifactUri(summary.digest), digest: summary.digest },
    conditions: [
      validated(o, ok),
      cond(ConditionTypes.Trained, "True", Reasons.Trained, "the model was trained and exported"),
      cond(
        ConditionTypes.ModelValidated,
        "True",
        Reasons.GatesPassed,
        "parity and every metric gate passed",
      ),
      cond(ConditionTypes.Succeeded, "True", Reasons.Succeeded, `artifact ${summary.digest}`),
    ],
  };
}

/** A data (exit 2) or gate (trainer exit 3) failure: terminal whether or not the Job caught up. */
function dataOrGateFailed(o: Observed): TrainingOutcome | undefined {
  const { latestExit, parsed, cond } = o;
  const exit = latestExit?.exitCode;
  const data = exit === TrainerExit.dataValidation;
  if (!data && !(exit === TrainerExit.gate && latestExit?.stage === "train")) return undefined;
  const checks = parsed?.failedChecks ?? [];
  const what = checks.length ? checks.join("; ") : (parsed?.message ?? "see the trainer log");
  const reason = data ? Reasons.DataValidationFailed : gateReason(checks);
  const message = data
    ? `data validation failed${dataScope(parsed)}: ${what}`
    : `a gate failed: ${what}`;
  return {
    ...o.base,
    completionTime: o.completionTime ?? latestExit?.finishedAt,
    phase: "Failed",
    reason,
    message,
    terminal: true,
    failedChecks: checks,
    metrics: parsed && !data ? metricsOf(parsed) : undefined,
    conditions: data
      ? [
          cond(ConditionTypes.DataValidated, "False", reason, message),
          cond(ConditionTypes.Succeeded, "False", reason, message),
        ]
      : [
          validated(o, o.latest),
          cond(
            ConditionTypes.Trained,
            "True",
            Reasons.Trained,
            "the model was trained and exported",
          ),
          cond(ConditionTypes.ModelValidated, "False", reason, message),
          cond(ConditionTypes.Succeeded, "False", reason, message),
        ],
  };
}

/** The Job failed (deadline, backoff limit, other): terminal, in the step it died in. */
/** The trainer's summary status when the S3 model store refused or failed it (ModelStoreError). */
const TRAINER_MODEL_STORE_STATUS = "model-store";

function jobFailed(o: Observed): TrainingOutcome | undefined {
  const { finished, latestExit, parsed, cond } = o;
  if (finished?.type !== "Failed") return undefined;
  const reason =
    finished.reason === "DeadlineExceeded"
      ? Reasons.DeadlineExceeded
      : parsed?.status === TRAINER_MODEL_STORE_STATUS
        ? Reasons.ModelStoreUnavailable
        : finished.reason === "BackoffLimitExceeded"
          ? Reasons.BackoffLimitExceeded
          : Reasons.TrainingFailed;
  const detail = crashDetail(latestExit, parsed);
  const message = `${finished.message ?? finished.reason ?? "the training Job failed"}${detail}`;
  // Which step the run died in: the last pod's validator had not passed, or the trainer.
  const last = o.current ?? o.latest;
  const inValidation =
    latestExit?.stage === "validate" ||
    (last?.validator !== undefined && last.validator.terminated?.exitCode !== TrainerExit.ok);
  return {
    ...o.base,
    completionTime: o.completionTime,
    phase: "Failed",
    reason,
    message,
    terminal: true,
    failedChecks: parsed?.failedChecks,
    conditions: inValidation
      ? [
          cond(ConditionTypes.DataValidated, "False", reason, message),
          cond(ConditionTypes.Succeeded, "False", reason, message),
        ]
      : [
          cond(ConditionTypes.Trained, "False", reason, message),
          cond(ConditionTypes.Succeeded, "False", reason, message),
        ],
  };
}

/**
 * A run still going: its phase, reason and message, Succeeded=Unknown with the same reason, and
 * the conditions known so far (`before`) ahead of it.
 */
function going(
  o: Observed,
  phase: TrainingRunPhase,
  reason: Reason,
  message: string,
  before: ConditionUpdate[] = [],
): TrainingOutcome {
  return {
    ...o.base,
    phase,
    reason,
    message,
    terminal: false,
    conditions: [...before, o.cond(ConditionTypes.Succeeded, "Unknown", reason, message)],
  };
}

/** The trainer exited 0; the Job controller has not marked the Job Complete yet. */
function trainerExitedOk(o: Observed): TrainingOutcome | undefined {
  if (o.current || o.latest?.terminated?.exitCode !== TrainerExit.ok) return undefined;
  return going(
    o,
    "Training",
    Reasons.TrainerRunning,
    "the trainer finished; waiting for the Job to complete",
    [validated(o, o.latest)],
  );
}

/** An attempt failed and the next has not started running yet. */
function retrying(o: Observed): TrainingOutcome | undefined {
  const { current, latestExit } = o;
  const started = current && (current.running || current.validator?.running === true);
  if (o.attempts === 0 || started) return undefined;
  const where = latestExit?.stage === "validate" ? "the data validator" : "the trainer";
  const message = `attempt ${o.attempts} failed in ${where}${crashDetail(latestExit, o.parsed)}; retrying`;
  return going(o, "Training", Reasons.TrainerRetrying, message);
}

/** The init container is checking the data. */
function validating(o: Observed): TrainingOutcome | undefined {
  if (o.current?.validator?.running !== true) return undefined;
  const message = "validating the data set, every row";
  return going(o, "Validating", Reasons.ValidatingData, message, [
    o.cond(ConditionTypes.DataValidated, "Unknown", Reasons.ValidatingData, message),
  ]);
}

/** The trainer container is running. */
function training(o: Observed): TrainingOutcome | undefined {
  const { current } = o;
  if (!current?.running) return undefined;
  const message = current.validator
    ? "the data passed validation; the trainer is training and evaluating"
    : "the trainer is validating the data, training and evaluating";
  return going(
    o,
    "Training",
    Reasons.TrainerRunning,
    message,
    current.validator ? [validated(o, current)] : [],
  );
}

/** The data passed; the trainer container has not started yet. */
function waitingForTrainer(o: Observed): TrainingOutcome | undefined {
  const { current } = o;
  if (!current?.validator || current.validator.terminated?.exitCode !== TrainerExit.ok)
    return undefined;
  const waiting = current.waiting ? `: ${current.waiting.reason}` : "";
  const message = `the data passed validation; waiting for the trainer to start${waiting}`;
  return going(o, "Training", Reasons.TrainerPending, message, [validated(o, current)]);
}

/** Nothing has started yet: the pod is pending (or not created). */
function podPending(o: Observed): TrainingOutcome {
  const w = o.current?.validator?.waiting ?? o.current?.waiting;
  const waiting = w ? `: ${w.reason}` : "";
  return going(
    o,
    "Pending",
    Reasons.TrainerPending,
    `waiting for the trainer pod to start${waiting}`,
  );
}

/** The DataValidated=True message: the validator's numbers, when this pod had a validator. */
function passedMessage(p: PodObservation | undefined): string {
  const s = p?.validator ? parseTrainerSummary(p.validator.terminated?.message) : undefined;
  if (!s || "error" in s || s.data.rows === undefined) return "every data check passed";
  const checks =
    s.data.checksPassed === undefined
      ? "every data check passed"
      : `all ${s.data.checksPassed} data checks passed`;
  const sha = s.data.sha256 ? ` (dataset sha256 ${s.data.sha256})` : "";
  return `${checks} on ${s.data.rows} rows${sha}`;
}

/** " on N rows (F of C checks failed)" for a data failure, when the summary says so. */
function dataScope(s: TrainerSummary | undefined): string {
  const d = s?.data;
  if (!d) return "";
  const rows = d.rows === undefined ? "" : ` on ${d.rows} rows`;
  const failed = d.checksFailed;
  const total = failed === undefined ? undefined : failed + (d.checksPassed ?? 0);
  return `${rows}${failed === undefined ? "" : ` (${failed} of ${total} checks failed)`}`;
}

function metricsOf(s: TrainerSummary): TrainingMetrics {
  const out: TrainingMetrics = {};
  for (const k of METRIC_KEYS) {
    const v = s.metrics[k];
    if (v !== undefined) out[k] = v;
  }
  // status has no other home the controller copies: calibration, worst segment and search
  // outcome travel with the metrics they qualify
  if (s.calibration) out.calibration = s.calibration;
  if (s.worstSegment) out.worstSegment = s.worstSegment;
  if (s.search) out.search = s.search;
  return out;
}

function gateReason(checks: readonly string[]): Reason {
  return checks.some((c) => /parity/i.test(c)) ? Reasons.ParityFailed : Reasons.GateFailed;
}

function crashDetail(e: PodExit | undefined, s: TrainerSummary | undefined): string {
  if (!e) return "";
  const why = s?.message ?? e.reason ?? "";
  return ` (exit code ${e.exitCode}${why ? `: ${why}` : ""})`;
}

function newest(pods: readonly PodObservation[]): PodObservation | undefined {
  return [...pods].sort((a, b) =>
    a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0,
  )[0];
}
