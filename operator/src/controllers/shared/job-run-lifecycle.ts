import type { V1Job } from "@kubernetes/client-node";
import { FIELD_MANAGER } from "../../api/group.js";
import { Reasons } from "../../api/reasons.js";
import type { EventRecorder } from "../../kube/event-recorder.js";
import { KubeApiError } from "../../kube/kube-api-error.js";
import type { KubeClient } from "../../kube/kube-client.js";
import type { KubeObject } from "../../kube/kube-object.js";
import type { ResourceType } from "../../kube/resource-type.js";
import { Resources } from "../../kube/resources.js";
import { Step, type StepResult } from "../reconcile-steps.js";
import { type ConditionedStatus, type StatusWrite, StatusWriter } from "./status-writer.js";

/** The status fields every run kind backed by one Job has. */
export interface JobRunStatus extends ConditionedStatus {
  phase?: string;
  jobName?: string;
  observedGeneration?: number;
}

type Run<S> = KubeObject & { status?: S };

/**
 * What TrainingRun and ScoringRun reconcile the same way: a finished run is history, the status
 * write that records the Job's name starts the run (conditional on the resourceVersion read, so
 * the spec the CEL rule freezes is the spec the Job runs), and the Job is applied under a
 * deterministic name with JobCreated said once per run by this process.
 */
export class JobRunLifecycle<S extends JobRunStatus> {
  readonly status: StatusWriter<S>;
  /** Runs whose Job this process applied: the cache lags, and JobCreated is said once. */
  private readonly jobsApplied = new Set<string>();

  constructor(
    private readonly client: KubeClient,
    type: ResourceType,
    private readonly recorder: EventRecorder,
  ) {
    this.status = new StatusWriter(client, type);
  }

  /** Stop when the run reached Succeeded or Failed for its current generation. */
  skipFinished(run: Run<S>): StepResult {
    const s = this.status.baseline(run);
    const done = s?.phase === "Succeeded" || s?.phase === "Failed";
    if (!done || s?.observedGeneration !== run.metadata?.generation) return Step.continue;
    this.jobsApplied.delete(run.metadata?.uid ?? "");
    return Step.stop;
  }

  /**
   * Writes `next`; the write that first records jobName is conditional on the run's
   * resourceVersion. "conflict" when the run changed since it was read (read it again).
   */
  async write(run: Run<S>, next: S): Promise<StatusWrite<S> | "conflict"> {
    const starting = !this.status.baseline(run)?.jobName && !!next.jobName;
    try {
      return await this.status.write(
        run,
        next,
        starting ? { resourceVersion: run.metadata?.resourceVersion } : {},
      );
    } catch (err) {
      if (starting && err instanceof KubeApiError && err.conflict) return "conflict";
      throw err;
    }
  }

  /**
   * Applies the run's Job by server-side apply: a second pass (or a second operator whose cache
   * has not seen the Job yet) converges on the same Job instead of a duplicate.
   */
  async applyJob(run: Run<S>, job: V1Job, message: string): Promise<void> {
    await this.client.apply(Resources.jobs, job, { fieldManager: FIELD_MANAGER, force: true });
    const uid = run.metadata?.uid ?? "";
    if (this.jobsApplied.has(uid)) return;
    this.jobsApplied.add(uid);
    await this.recorder.record(run, "Normal", Reasons.JobCreated, message);
  }

  /** Forgets a deleted run. */
  forget(run: Run<S>): void {
    this.status.forget(run.metadata?.uid);
    this.jobsApplied.delete(run.metadata?.uid ?? "");
  }

  /** How many runs this process keeps state for. */
  get remembered(): number {
    return Math.max(this.status.size, this.jobsApplied.size);
  }
}
