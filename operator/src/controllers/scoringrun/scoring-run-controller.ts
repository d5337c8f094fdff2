import type { V1Job, V1Pod } from "@kubernetes/client-node";
import type { ChurnModel } from "../../api/churn-model.js";
import { rfc3339 } from "../../api/condition.js";
import { Reasons } from "../../api/reasons.js";
import type { ScoringRun, ScoringRunStatus } from "../../api/scoring-run.js";
import type { EventRecorder } from "../../kube/event-recorder.js";
import type { Informer } from "../../kube/informer.js";
import type { KubeClient } from "../../kube/kube-client.js";
import { splitKey } from "../../kube/kube-object.js";
import type { Logger } from "../../kube/logger.js";
import type { ReconcileResult } from "../../kube/reconcile-result.js";
import { type ReconcileStep, runSteps, Step } from "../reconcile-steps.js";
import { scoringRunType } from "../shared/custom-resources.js";
import { JobRunLifecycle } from "../shared/job-run-lifecycle.js";
import { secondsBetween } from "../shared/run-outcome-metrics.js";
import { mergeConditions, type StatusWrite } from "../shared/status-writer.js";
import { runTransitionEvents } from "../shared/transition-events.js";
import {
  buildScoringJob,
  outputLocation,
  type ScoringJobSettings,
  scoringJobName,
  UnsupportedSpecError,
} from "./build-scoring-job.js";
import {
  type ModelStores,
  resolveScoringModel,
  type ScoringModel,
} from "./resolve-scoring-model.js";
import { decideScoringOutcome, type ScoringOutcome } from "./scoring-outcome.js";
import type { ScoringRunMetrics } from "./scoring-run-metrics.js";
import { ScoringScheduler } from "./scoring-scheduler.js";
import {
  observeIndexedJob,
  observeShardPod,
  type ShardPodObservation,
} from "./shard-observation.js";

/** What the ScoringRun controller needs from the process. */
export interface ScoringRunControllerDeps {
  client: KubeClient;
  runs: Informer<ScoringRun>;
  models: Informer<ChurnModel>;
  jobs: Informer<V1Job>;
  pods: Informer<V1Pod>;
  recorder: EventRecorder;
  settings: ScoringJobSettings & ModelStores;
  log: Logger;
  metrics: ScoringRunMetrics;
  now?: () => Date;
}

interface Pass {
  run: ScoringRun;
  namespace: string;
  model?: ScoringModel;
  /** The Job this run wants, once its model is known and its spec can become one. */
  job?: V1Job;
  outcome?: ScoringOutcome;
}

/** While a run is in flight, look again at least this often even without watch events. */
const RESYNC_MS = 30_000;
/** A run waiting for its ChurnModel to serve a version looks again this soon. */
const MODEL_WAIT_MS = 10_000;
/** After a start lost to a concurrent spec edit, read the run again this soon. */
const START_CONFLICT_RETRY_MS = 1_000;

/**
 * Reconciles ScoringRuns: model -> status (the start: model and Job name recorded) -> Indexed
 * Job -> status from the Job and its shard pods. Each pass is an ordered list of idempotent
 * steps; the status step is the only status writer.
 */
export class ScoringRunReconciler {
  private readonly lifecycle: JobRunLifecycle<ScoringRunStatus>;
  private readonly schedule: ScoringScheduler;
  private readonly steps: ReconcileStep<Pass>[];

  constructor(private readonly deps: ScoringRunControllerDeps) {
    this.lifecycle = new JobRunLifecycle(deps.client, scoringRunType, deps.recorder);
    this.schedule = new ScoringScheduler(deps, this.lifecycle.status);
    this.steps = [
      { name: "skip-finished", run: async (p) => this.lifecycle.skipFinished(p.run) },
      { name: "observe", run: async (p) => this.observe(p) },
      { name: "status", run: async (p) => this.writeStatus(p) },
      { name: "job", run: async (p) => this.ensureJob(p) },
      {
        name: "resync",
        run: async (p) => Step.requeue(p.model?.ok ? RESYNC_MS : MODEL_WAIT_MS),
      },
    ];
  }

  /** Reconciles the ScoringRun with this key (a schedule template, or one run). */
  async reconcile(key: string): Promise<ReconcileResult> {
    const run = this.deps.runs.get(key);
    if (!run || run.metadata?.deletionTimestamp) return {};
    const { namespace } = splitKey(key);
    const pass = { run, namespace: namespace ?? "default" };
    const result = run.spec.schedule
      ? await runSteps(this.schedule.steps, pass)
      : await runSteps(this.steps, pass);
    return result.requeueAfterMs === undefined ? {} : { requeueAfterMs: result.requeueAfterMs };
  }

  /** Forgets what this process remembers of a deleted ScoringRun. */
  forget(run: ScoringRun): void {
    this.lifecycle.forget(run);
  }

  /** How many ScoringRuns this process keeps state for. */
  get remembered(): number {
    return this.lifecycle.remembered;
  }

  /** Keys of the runs waiting for this ChurnModel to name a version. */
  runsWaitingFor(model: ChurnModel): string[] {
    const ns = model.metadata?.namespace;
    return this.deps.runs
      .list(ns)
      .filter((r) => !r.status?.model && r.spec.model.churnModelRef?.name === model.metadata?.name)
      .map((r) => `${ns}/${r.metadata?.name}`);
  }

  private async observe(p: Pass) {
    const run = { ...p.run, status: this.lifecycle.status.baseline(p.run) };
    const ref = run.spec.model.churnModelRef?.name;
    const churnModel = ref ? this.deps.models.get(`${p.namespace}/${ref}`) : undefined;
    p.model = resolveScoringModel(run, churnModel, this.deps.settings);
    const jobName = scoringJobName(run);
    const job = this.deps.jobs.get(`${p.namespace}/${jobName}`);
    const pods = this.deps.pods
      .list(p.namespace)
      .filter((pod) => pod.metadata?.labels?.["job-name"] === jobName)
      .map(observeShardPod)
      .filter((o): o is ShardPodObservation => o !== undefined);
    let specProblem: string | undefined;
    if (p.model.ok) {
      try {
        const { digest } = p.model.model;
        p.job = buildScoringJob(run, { digest, location: p.model.location }, this.deps.settings);
      } catch (err) {
        if (!(err instanceof UnsupportedSpecError)) throw err;
        specProblem = err.message;
      }
    }
    p.outcome = decideScoringOutcome({
      run,
      model: p.model,
      specProblem,
      job: job ? observeIndexedJob(job) : undefined,
      pods,
    });
    return Step.continue;
  }

  private nextStatus(
    p: Pass,
    o: ScoringOutcome,
    old: ScoringRunStatus,
    now: Date,
  ): ScoringRunStatus {
    const started = p.model?.ok === true && o.phase !== "Failed" ? true : !!old.jobName;
    const completionTime = o.terminal
      ? (o.completionTime ?? old.completionTime ?? rfc3339(now))
      : undefined;
    const startTime = o.startTime ?? old.startTime;
    let output: ScoringRunStatus["output"];
    try {
      output = { location: outputLocation(p.run), format: p.run.spec.output.format };
    } catch {
      output = undefined;
    }
    return {
      phase: o.phase,
      message: o.message,
      conditions: mergeConditions(old.conditions, o.conditions, now),
      model: p.model?.ok ? p.model.model : old.model,
      jobName: started ? scoringJobName(p.run) : undefined,
      shards: o.shards ?? old.shards,
      rows: o.rows ?? old.rows,
      shardResults: o.shardResults ?? old.shardResults,
      output,
      startTime,
      completionTime,
      durationSeconds: secondsBetween(startTime, completionTime),
      observedGeneration: p.run.metadata?.generation,
    };
  }

  private async writeStatus(p: Pass) {
    const o = p.outcome;
    if (!o) throw new Error("status step ran before observe");
    const now = (this.deps.now ?? (() => new Date()))();
    const old = this.lifecycle.status.baseline(p.run) ?? {};
    const next = this.nextStatus(p, o, old, now);
    // The write that records jobName and the model starts the run (JobRunLifecycle.write).
    const write = await this.lifecycle.write(p.run, next);
    if (write === "conflict") return Step.requeue(START_CONFLICT_RETRY_MS);
    if (write.changed) await this.afterTransition(p, o, write);
    return o.terminal ? Step.stop : Step.continue;
  }

  private async afterTransition(p: Pass, o: ScoringOutcome, w: StatusWrite<ScoringRunStatus>) {
    const wasTerminal = w.old.phase === "Succeeded" || w.old.phase === "Failed";
    if (o.terminal && !wasTerminal) {
      const result = o.phase === "Succeeded" ? "succeeded" : "failed";
      this.deps.metrics.completed(result, o.reason, w.status.rows, w.status.durationSeconds);
    }
    const warn = (n: { phase: string; reason: string }) =>
      n.phase === "Failed" || n.reason === Reasons.ShardRetrying;
    for (const e of runTransitionEvents(w.old, o, warn)) {
      await this.deps.recorder.record(p.run, e.type, e.reason, e.message);
    }
    this.deps.log.info("scoring run status", {
      scoringRun: `${p.namespace}/${p.run.metadata?.name}`,
      phase: o.phase,
      reason: o.reason,
    });
  }

  /** Creates the Indexed Job once status records the start. */
  private async ensureJob(p: Pass) {
    const job = p.job;
    const name = job?.metadata?.name ?? "";
    if (!job || p.outcome?.phase !== "Pending" || this.deps.jobs.get(`${p.namespace}/${name}`)) {
      return Step.continue;
    }
    await this.lifecycle.applyJob(
      p.run,
      job,
      `created Indexed Job ${name} (${job.spec?.completions} shards)`,
    );
    return Step.continue;
  }
}
