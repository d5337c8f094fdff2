import {
  BatchExit,
  rejectLimitBroken,
  type ShardSummary,
} from "../../../../runtime/src/batch/shard-summary.js";
import type { ConditionUpdate } from "../../api/condition.js";
import { ConditionTypes } from "../../api/condition-types.js";
import { type Reason, Reasons } from "../../api/reasons.js";
import { maxRejectedPercentOf, shardsOf } from "../../api/scoring-defaults.js";
import type {
  ScoringRun,
  ScoringRunPhase,
  ScoringRunStatus,
  ShardResult,
} from "../../api/scoring-run.js";
import type { ScoringModel } from "./resolve-scoring-model.js";
import type { IndexedJobObservation, ShardPodObservation } from "./shard-observation.js";

/** What the status step writes, decided from observations alone. */
export interface ScoringOutcome {
  phase: ScoringRunPhase;
  reason: Reason;
  message: string;
  terminal: boolean;
  conditions: ConditionUpdate[];
  shards?: ScoringRunStatus["shards"];
  rows?: ScoringRunStatus["rows"];
  shardResults?: ShardResult[];
  startTime?: string;
  completionTime?: string;
}

/** Everything the decision looks at. */
export interface ScoringObservation {
  run: ScoringRun;
  model: ScoringModel;
  /** Why the spec cannot become a Job (a source kind not mounted yet), when it cannot. */
  specProblem?: string | undefined;
  job?: IndexedJobObservation;
  pods: readonly ShardPodObservation[];
}

/**
 * Each succeeded shard's counts: those already in status (a pod may be gone since) and those
 * of succeeded pods whose index the Job counts as completed, by index.
 */
export function aggregateShardResults(
  previous: readonly ShardResult[] | undefined,
  completed: readonly number[],
  pods: readonly ShardPodObservation[],
): ShardResult[] {
  const done = new Set(completed);
  const byIndex = new Map<number, ShardResult>();
  for (const r of previous ?? []) byIndex.set(r.index, r);
  for (const p of pods) {
    if (p.phase !== "Succeeded" || !p.summary || !done.has(p.index) || byIndex.has(p.index))
      continue;
    byIndex.set(p.index, {
      index: p.index,
      scored: p.summary.scored,
      rejected: p.summary.rejected,
      ...(p.summary.inputListing ? { inputListing: p.summary.inputListing } : {}),
    });
  }
  return [...byIndex.values()].sort((a, b) => a.index - b.index);
}

const jobCondition = (job: IndexedJobObservation, type: string) =>
  job.conditions.find((c) => c.type === type && c.status === "True");

/** The pod whose failure ended the Job: a failed pod with a report, the latest first. */
function failingShard(pods: readonly ShardPodObservation[], failed: readonly number[]) {
  const bad = pods.filter((p) => p.phase === "Failed" && p.summary?.error);
  return bad.find((p) => failed.includes(p.index)) ?? bad.at(-1);
}

/** The reason of a shard that S3 refused, by what it refused. */
const S3_REASONS: Partial<Record<NonNullable<ShardSummary["s3Problem"]>, Reason>> = {
  credentials: Reasons.S3CredentialsRefused,
  "not-found": Reasons.S3ObjectNotFound,
  "access-denied": Reasons.S3AccessDenied,
};

/** Why a failed Job failed, as a reason and message. */
function failure(o: ScoringObservation, job: IndexedJobObservation): [Reason, string] {
  const cond = jobCondition(job, "Failed");
  if (cond?.reason === "DeadlineExceeded") {
    return [
      Reasons.DeadlineExceeded,
      `the run passed activeDeadlineSeconds: ${cond.message ?? ""}`,
    ];
  }
  const shard = failingShard(o.pods, job.failedIndexes);
  if (shard?.exitCode === BatchExit.unusable) {
    const s3 = shard.summary?.s3Problem;
    const reason = (s3 && S3_REASONS[s3]) ?? Reasons.ScoringUnusable;
    return [reason, `shard ${shard.index}: ${shard.summary?.error}`];
  }
  if (shard?.exitCode === BatchExit.tooManyRejects) {
    return [Reasons.RejectLimitExceeded, `shard ${shard.index}: ${shard.summary?.error}`];
  }
  // The model never reached the scorer: every retry of the index would refuse it alike.
  const refused = o.pods.find((p) => p.artifactRejected);
  if (refused)
    return [Reasons.ArtifactRejected, `shard ${refused.index}: ${refused.artifactRejected}`];
  if (job.failedIndexes.length > 0) {
    const why = shard?.summary?.error ? `: ${shard.summary.error}` : "";
    return [Reasons.ShardFailed, `shard ${job.failedIndexes[0]} failed after its retries${why}`];
  }
  return [
    Reasons.ScoringFailed,
    `the scoring Job failed: ${cond?.reason ?? ""} ${cond?.message ?? ""}`.trim(),
  ];
}

function modelCondition(o: ScoringObservation): ConditionUpdate {
  const gen = o.run.metadata?.generation;
  if (!o.model.ok) {
    return {
      type: ConditionTypes.ModelResolved,
      status: "False",
      reason: Reasons.ModelNotResolved,
      message: o.model.message,
      observedGeneration: gen,
    };
  }
  const from = o.model.model.churnModel
    ? ` (stable version of ChurnModel ${o.model.model.churnModel})`
    : "";
  return {
    type: ConditionTypes.ModelResolved,
    status: "True",
    reason: Reasons.ModelResolved,
    message: `scoring with model ${o.model.model.digest}${from}`,
    observedGeneration: gen,
  };
}

function outcome(
  o: ScoringObservation,
  phase: ScoringRunPhase,
  reason: Reason,
  message: string,
  extra: Partial<ScoringOutcome> = {},
): ScoringOutcome {
  const terminal = phase === "Succeeded" || phase === "Failed";
  const status = phase === "Succeeded" ? "True" : phase === "Failed" ? "False" : "Unknown";
  return {
    phase,
    reason,
    message,
    terminal,
    conditions: [
      modelCondition(o),
      {
        type: ConditionTypes.Succeeded,
        status,
        reason,
        message,
        observedGeneration: o.run.metadata?.generation,
      },
    ],
    ...extra,
  };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * Two shards that planned from different listings of an input prefix, when some did: their
 * byte boundaries differ, so the parts may miss or repeat customers.
 */
function listingsDiffer(results: readonly ShardResult[]): string | undefined {
  const listed = results.filter((r) => r.inputListing);
  const other = listed.find((r) => r.inputListing !== listed[0]?.inputListing);
  if (!other || !listed[0]) return undefined;
  return `shards ${listed[0].index} and ${other.index} listed different objects under the input prefix (${listed[0].inputListing} against ${other.inputListing}): it changed during the run, so the parts may miss or repeat customers; give each run's input a prefix nothing writes to while it runs`;
}

/**
 * A finished Job's verdict: succeeded, unless the run as a whole has too many rejects or its
 * shards read different listings of an input prefix.
 */
function completed(o: ScoringObservation, extra: Partial<ScoringOutcome>): ScoringOutcome {
  const changed = listingsDiffer(extra.shardResults ?? []);
  if (changed) return outcome(o, "Failed", Reasons.InputChanged, changed, extra);
  const rows = extra.rows ?? { scored: 0, rejected: 0 };
  const broken = rejectLimitBroken(
    { read: rows.scored + rows.rejected, rejected: rows.rejected },
    {
      maxRows: o.run.spec.maxRejectedRows,
      maxPercent: maxRejectedPercentOf(o.run.spec.maxRejectedPercent),
    },
  );
  if (broken)
    return outcome(o, "Failed", Reasons.RejectLimitExceeded, `over the run: ${broken}`, extra);
  const total = extra.shards?.total ?? 0;
  const unreported = total - (extra.shardResults?.length ?? 0);
  const note = unreported > 0 ? ` (${plural(unreported, "shard")} reported no counts)` : "";
  const message = `scored ${rows.scored} rows, rejected ${rows.rejected}, in ${plural(total, "shard")}${note}`;
  return outcome(o, "Succeeded", Reasons.Succeeded, message, extra);
}

/**
 * The run's status from what was observed: the model resolution, the Indexed Job and its
 * pods. Pure; every number in status is derived here.
 */
export function decideScoringOutcome(o: ScoringObservation): ScoringOutcome {
  if (!o.model.ok) {
    const phase = o.model.terminal ? "Failed" : "Pending";
    return outcome(o, phase, Reasons.ModelNotResolved, o.model.message);
  }
  if (o.specProblem) return outcome(o, "Failed", Reasons.InvalidSpec, o.specProblem);
  const total = shardsOf(o.run.spec.shards);
  const job = o.job;
  if (!job) {
    if (o.run.status?.jobName && o.run.status.startTime) {
      return outcome(
        o,
        "Failed",
        Reasons.JobLost,
        "the scoring Job disappeared before it finished",
      );
    }
    return outcome(o, "Pending", Reasons.NotStarted, "creating the scoring Job");
  }
  const shardResults = aggregateShardResults(
    o.run.status?.shardResults,
    job.completedIndexes,
    o.pods,
  );
  const rows = shardResults.reduce(
    (sum, r) => ({ scored: sum.scored + r.scored, rejected: sum.rejected + r.rejected }),
    { scored: 0, rejected: 0 },
  );
  const extra: Partial<ScoringOutcome> = {
    shards: {
      total,
      succeeded: job.completedIndexes.length,
      failed: job.failedIndexes.length,
      active: job.active,
    },
    rows,
    shardResults,
    startTime: job.startTime,
    completionTime: job.completionTime ?? jobCondition(job, "Failed")?.time,
  };
  if (jobCondition(job, "Complete")) return completed(o, extra);
  if (jobCondition(job, "Failed")) {
    const [reason, message] = failure(o, job);
    return outcome(o, "Failed", reason, message, extra);
  }
  const done = `${job.completedIndexes.length} of ${plural(total, "shard")} done`;
  if (job.failed > 0) {
    return outcome(
      o,
      "Running",
      Reasons.ShardRetrying,
      `${done}; ${plural(job.failed, "shard pod")} failed and retried`,
      extra,
    );
  }
  return outcome(o, "Running", Reasons.ShardsRunning, done, extra);
}
