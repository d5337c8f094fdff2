import type { V1ConfigMap, V1Job, V1Pod, V1ServiceAccount } from "@kubernetes/client-node";
import { rfc3339 } from "../../api/condition.js";
import { FIELD_MANAGER } from "../../api/group.js";
import type { TrainingRun, TrainingRunStatus } from "../../api/training-run.js";
import type { EventRecorder } from "../../kube/event-recorder.js";
import type { Informer } from "../../kube/informer.js";
import type { KubeClient } from "../../kube/kube-client.js";
import { splitKey } from "../../kube/kube-object.js";
import type { Logger } from "../../kube/logger.js";
import type { ReconcileResult } from "../../kube/reconcile-result.js";
import { Resources } from "../../kube/resources.js";
import { type ReconcileStep, runSteps, Step } from "../reconcile-steps.js";
import { trainingRunType } from "../shared/custom-resources.js";
import { JobRunLifecycle } from "../shared/job-run-lifecycle.js";
import { Labels, MANAGED_BY } from "../shared/labels.js";
import { mergeConditions, type StatusWrite } from "../shared/status-writer.js";
import {
  buildTrainingJob,
  buildTrainingSpecConfigMap,
  type TrainingJobSettings,
  trainedArtifactUri,
  trainingJobName,
} from "./build-training-job.js";
import { observeJob, observePod } from "./training-observation.js";
import { decideTrainingOutcome, type TrainingOutcome } from "./training-outcome.js";
import type { TrainingRunMetrics } from "./training-run-metrics.js";
import { transitionEvents } from "./transition-events.js";

/** What the TrainingRun controller needs from the process. */
export interface TrainingRunControllerDeps {
  client: KubeClient;
  runs: Informer<TrainingRun>;
  jobs: Informer<V1Job>;
  pods: Informer<V1Pod>;
  recorder: EventRecorder;
  settings: TrainingJobSettings;
  log: Logger;
  /** Outcome counters; a run is counted on the status write that makes it terminal. */
  metrics: TrainingRunMetrics;
  now?: () => Date;
}

interface Pass {
  run: TrainingRun;
  namespace: string;
  outcome?: TrainingOutcome;
}

/** While a run is in flight, look again at least this often even without watch events. */
const RESYNC_MS = 60_000;
/** After a start lost to a concurrent spec edit, read the run again this soon. */
const START_CONFLICT_RETRY_MS = 1_000;

/**
 * Reconciles TrainingRuns: spec -> ConfigMap -> Job -> status. Each pass is an ordered list of
 * idempotent steps; the status step is the only status writer.
 */
export class TrainingRunReconciler {
  private readonly lifecycle: JobRunLifecycle<TrainingRunStatus>;
  private readonly steps: ReconcileStep<Pass>[];

  constructor(private readonly deps: TrainingRunControllerDeps) {
    this.lifecycle = new JobRunLifecycle(deps.client, trainingRunType, deps.recorder);
    // Status before the Job: the first status write records the Job's name (the point from
    // which the spec is immutable, see specImmutableOnceStarted) before the Job exists.
    this.steps = [
      { name: "skip-finished", run: async (p) => this.lifecycle.skipFinished(p.run) },
      { name: "observe", run: async (p) => this.observe(p) },
      { name: "status", run: async (p) => this.writeStatus(p) },
      { name: "job", run: async (p) => this.ensureJob(p) },
      { name: "resync", run: async () => Step.requeue(RESYNC_MS) },
    ];
  }

  /** Reconciles the TrainingRun with this key. */
  async reconcile(key: string): Promise<ReconcileResult> {
    const run = this.deps.runs.get(key);
    if (!run || run.metadata?.deletionTimestamp) return {};
    const { namespace } = splitKey(key);
    const pass: Pass = { run, namespace: namespace ?? "default" };
    const result = await runSteps(this.steps, pass);
    return result.requeueAfterMs === undefined ? {} : { requeueAfterMs: result.requeueAfterMs };
  }

  /** Forgets what this process remembers of a deleted TrainingRun. */
  forget(run: TrainingRun): void {
    this.lifecycle.forget(run);
  }

  /** How many TrainingRuns this process keeps state for. */
  get remembered(): number {
    return this.lifecycle.remembered;
  }

  /** The trainer's ServiceAccount, applied whenever a Job is about to be created. */
  private async ensureServiceAccount(p: Pass) {
    const name = this.deps.settings.serviceAccount;
    const sa: V1ServiceAccount = {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: {
        name,
        namespace: p.namespace,
        labels: { [Labels.managedBy]: MANAGED_BY, [Labels.name]: "churn-trainer" },
      },
      // The trainer needs no Kubernetes API access at all: no token is mounted, no role bound.
      automountServiceAccountToken: false,
    };
    await this.deps.client.apply(Resources.serviceAccounts, sa, {
      fieldManager: FIELD_MANAGER,
      force: true,
    });
  }

  /** Creates the ConfigMap and the Job once the status says the run has started. */
  private async ensureJob(p: Pass) {
    const jobKey = `${p.namespace}/${trainingJobName(p.run)}`;
    if (this.deps.jobs.get(jobKey)) return Step.continue;
    await this.ensureServiceAccount(p);
    const cm: V1ConfigMap = buildTrainingSpecConfigMap(p.run);
    await this.deps.client.apply(Resources.configMaps, cm, {
      fieldManager: FIELD_MANAGER,
      force: true,
    });
    const job = buildTrainingJob(p.run, this.deps.settings);
    await this.lifecycle.applyJob(p.run, job, `created training Job ${job.metadata?.name}`);
    return Step.continue;
  }

  private async observe(p: Pass) {
    const jobName = trainingJobName(p.run);
    const job = this.deps.jobs.get(`${p.namespace}/${jobName}`);
    const pods = this.deps.pods
      .list(p.namespace)
      .filter((pod) => pod.metadata?.labels?.[Labels.trainingRun] === p.run.metadata?.name)
      .filter(
        (pod) =>
          pod.metadata?.labels?.["job-name"] === jobName || !pod.metadata?.labels?.["job-name"],
      )
      .map(observePod);
    p.outcome = decideTrainingOutcome(
      job ? observeJob(job) : undefined,
      pods,
      (digest) => trainedArtifactUri(this.deps.settings, digest),
      p.run.metadata?.generation ?? 0,
    );
    return Step.continue;
  }

  private async writeStatus(p: Pass) {
    const o = p.outcome;
    if (!o) throw new Error("status step ran before observe");
    const old = this.lifecycle.status.baseline(p.run) ?? {};
    const next = nextStatus(p.run, o, old, (this.deps.now ?? (() => new Date()))());
    // The first write starts the run (see JobRunLifecycle.write): a spec edited since it was
    // read (the cache lags) is never the one the Job gets; the pass reads the run again.
    const write = await this.lifecycle.write(p.run, next);
    if (write === "conflict") {
      this.deps.log.info("training run changed before it started; reading it again", {
        trainingRun: `${p.namespace}/${p.run.metadata?.name}`,
      });
      return Step.requeue(START_CONFLICT_RETRY_MS);
    }
    if (write.changed) await this.afterTransition(p, o, write);
    return o.terminal ? Step.stop : Step.continue;
  }

  /** What a status transition this process wrote sets off: the outcome metric and Events. */
  private async afterTransition(
    p: Pass,
    o: TrainingOutcome,
    { old, status }: StatusWrite<TrainingRunStatus>,
  ) {
    // Counted on the transition this process wrote: the baseline is what it last wrote (or,
    // new to the run, the cache, where an earlier writer's terminal status ends the pass in
    // skip-finished), so later passes and replicas never count the run again. A crash between
    // the write and this line loses the count, as in controller-runtime's own metrics.
    const wasTerminal = old.phase === "Succeeded" || old.phase === "Failed";
    if (o.terminal && !wasTerminal) {
      this.deps.metrics.completed(
        o.phase === "Succeeded" ? "succeeded" : "failed",
        o.reason,
        status.startTime,
        status.completionTime,
      );
    }
    for (const e of transitionEvents(old, o)) {
      await this.deps.recorder.record(p.run, e.type, e.reason, e.message);
    }
    this.deps.log.info("training run status", {
      trainingRun: `${p.namespace}/${p.run.metadata?.name}`,
      phase: o.phase,
      reason: o.reason,
    });
  }
}

/** The status to write for outcome `o`: what it says, over what the last status kept. */
function nextStatus(
  run: TrainingRun,
  o: TrainingOutcome,
  old: TrainingRunStatus,
  now: Date,
): TrainingRunStatus {
  return {
    phase: o.phase,
    message: o.message,
    conditions: mergeConditions(old.conditions, o.conditions, now),
    failedChecks: o.failedChecks ?? old.failedChecks,
    metrics: o.metrics ?? old.metrics,
    model: o.model ?? old.model,
    jobName: trainingJobName(run),
    attempts: o.attempts,
    startTime: o.startTime ?? old.startTime,
    completionTime: o.terminal
      ? (o.completionTime ?? old.completionTime ?? rfc3339(now))
      : undefined,
    observedGeneration: run.metadata?.generation,
  };
}
