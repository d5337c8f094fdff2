import { rfc3339 } from "../../api/condition.js";
import { FIELD_MANAGER } from "../../api/group.js";
import { Reasons } from "../../api/reasons.js";
import type { ScoringRun, ScoringRunStatus } from "../../api/scoring-run.js";
import type { EventRecorder } from "../../kube/event-recorder.js";
import type { Informer } from "../../kube/informer.js";
import type { KubeClient } from "../../kube/kube-client.js";
import { type ReconcileStep, Step } from "../reconcile-steps.js";
import { scoringRunType } from "../shared/custom-resources.js";
import { mergeConditions, type StatusWriter } from "../shared/status-writer.js";
import {
  decideFiring,
  runsToPrune,
  SCHEDULED_BY_LABEL,
  ScheduleError,
  scheduledRun,
} from "./scoring-schedule.js";

interface Pass {
  run: ScoringRun;
  namespace: string;
}

/** Look again at least this often, even when the next firing is further away. */
const MAX_WAIT_MS = 5 * 60_000;

/**
 * A ScoringRun with a schedule is a template: at each firing the operator creates one ordinary
 * ScoringRun from it (deterministic name, so a repeated pass converges on the same run), and
 * keeps the newest finished ones. Each created run resolves its model and reports on its own,
 * which a CronJob running a fixed Job template could not: it would freeze the model digest and
 * leave no per-night status.
 */
export class ScoringScheduler {
  readonly steps: ReconcileStep<Pass>[];

  constructor(
    private readonly deps: {
      client: KubeClient;
      runs: Informer<ScoringRun>;
      recorder: EventRecorder;
      now?: () => Date;
    },
    private readonly status: StatusWriter<ScoringRunStatus>,
  ) {
    this.steps = [
      { name: "fire", run: async (p) => this.fire(p) },
      { name: "prune", run: async (p) => this.prune(p) },
    ];
  }

  private async fire(p: Pass) {
    const schedule = p.run.spec.schedule;
    if (!schedule) return Step.continue;
    const now = (this.deps.now ?? (() => new Date()))();
    const old = this.status.baseline(p.run) ?? {};
    const since = new Date(old.lastScheduleTime ?? p.run.metadata?.creationTimestamp ?? now);
    let decision: ReturnType<typeof decideFiring>;
    try {
      decision = decideFiring(schedule.cron, since, now, schedule.startingDeadlineSeconds);
    } catch (err) {
      if (!(err instanceof ScheduleError)) throw err;
      await this.write(p, old, now, { phase: "Failed", message: err.message }, Reasons.InvalidSpec);
      return Step.stop;
    }
    const next = { nextScheduleTime: rfc3339(decision.next), phase: "Scheduled" as const };
    if (decision.fire) {
      const child = scheduledRun(p.run, decision.fire);
      await this.deps.client.apply(scoringRunType, child, {
        fieldManager: FIELD_MANAGER,
        force: true,
      });
      const name = child.metadata?.name ?? "";
      await this.write(
        p,
        old,
        now,
        {
          ...next,
          lastScheduleTime: rfc3339(decision.fire),
          lastRun: name,
          message: `created ${name}; next run at ${next.nextScheduleTime}`,
        },
        Reasons.RunScheduled,
      );
    } else if (decision.missed) {
      await this.write(
        p,
        old,
        now,
        {
          ...next,
          lastScheduleTime: rfc3339(decision.missed),
          message: `skipped the run due at ${rfc3339(decision.missed)}: more than startingDeadlineSeconds late`,
        },
        Reasons.ScheduleMissed,
      );
    } else {
      await this.write(p, old, now, { ...next, message: `next run at ${next.nextScheduleTime}` });
    }
    return Step.continue;
  }

  /** Writes the template's status; a changed lastScheduleTime or failure is an Event. */
  private async write(
    p: Pass,
    old: ScoringRunStatus,
    now: Date,
    fields: Partial<ScoringRunStatus>,
    reason?: (typeof Reasons)[keyof typeof Reasons],
  ) {
    const next: ScoringRunStatus = {
      lastScheduleTime: old.lastScheduleTime,
      lastRun: old.lastRun,
      ...fields,
      conditions: mergeConditions(old.conditions, [], now),
      observedGeneration: p.run.metadata?.generation,
    };
    const w = await this.status.write(p.run, next);
    if (!w.changed || !reason) return;
    if (w.old.lastScheduleTime === next.lastScheduleTime && w.old.phase === next.phase) return;
    const warn = reason !== Reasons.RunScheduled;
    await this.deps.recorder.record(p.run, warn ? "Warning" : "Normal", reason, next.message ?? "");
  }

  /** Deletes the finished runs past historyLimit (their output files stay), then waits. */
  private async prune(p: Pass) {
    const schedule = p.run.spec.schedule;
    if (!schedule) return Step.continue;
    const children = this.deps.runs
      .list(p.namespace)
      .filter((r) => r.metadata?.labels?.[SCHEDULED_BY_LABEL] === p.run.metadata?.name);
    for (const r of runsToPrune(children, schedule.historyLimit)) {
      await this.deps.client.delete(scoringRunType, p.namespace, r.metadata?.name ?? "");
    }
    const now = (this.deps.now ?? (() => new Date()))().getTime();
    const next = Date.parse(this.status.baseline(p.run)?.nextScheduleTime ?? "");
    const wait = Number.isFinite(next) ? next - now + 1000 : MAX_WAIT_MS;
    return Step.requeue(Math.max(1000, Math.min(MAX_WAIT_MS, wait)));
  }
}
