import { CronExpressionParser } from "cron-parser";
import { LABEL_PREFIX } from "../../api/group.js";
import type { ScoringRun } from "../../api/scoring-run.js";
import { childName } from "../shared/child-name.js";
import { childMetadata } from "../shared/owner-reference.js";

/** The label a scheduled run carries: the name of the ScoringRun that scheduled it. */
export const SCHEDULED_BY_LABEL = `${LABEL_PREFIX}/scheduled-by`;

/** What a schedule should do now. */
export interface ScheduleDecision {
  /** The firing to create a run for now, if one is due and not too late. */
  fire?: Date;
  /** A due firing skipped because it is older than startingDeadlineSeconds. */
  missed?: Date;
  /** The next firing after now. */
  next: Date;
}

/** Raised for a cron expression the parser refuses. */
export class ScheduleError extends Error {
  override readonly name = "ScheduleError";
}

function parse(cron: string, currentDate: Date) {
  try {
    return CronExpressionParser.parse(cron, { currentDate, tz: "UTC" });
  } catch (err) {
    throw new ScheduleError(`schedule.cron ${JSON.stringify(cron)}: ${(err as Error).message}`);
  }
}

/**
 * The latest firing at or before `now` that is after `since` (the last one run, or the
 * template's creation) is due; it is run if no older than the deadline, else skipped. Only the
 * latest is considered, as a CronJob does: an operator down for a week runs once, not seven
 * times. Pure.
 */
export function decideFiring(
  cron: string,
  since: Date,
  now: Date,
  startingDeadlineSeconds: number,
): ScheduleDecision {
  const next = parse(cron, now).next().toDate();
  // prev() is strictly before currentDate: start a millisecond later so `now` itself counts.
  const latest = parse(cron, new Date(now.getTime() + 1))
    .prev()
    .toDate();
  if (latest.getTime() <= since.getTime()) return { next };
  if (now.getTime() - latest.getTime() > startingDeadlineSeconds * 1000) {
    return { missed: latest, next };
  }
  return { fire: latest, next };
}

/** `yyyymmddhhmm` of a firing (UTC): the run's name suffix and output folder or prefix. */
export function firingStamp(t: Date): string {
  return t.toISOString().replace(/[-:T]/g, "").slice(0, 12);
}

/** The ScoringRun a schedule creates for one firing: the template's spec, no schedule. */
export function scheduledRun(template: ScoringRun, firing: Date): ScoringRun {
  const stamp = firingStamp(firing);
  const { schedule: _, ...spec } = template.spec;
  const { persistentVolumeClaim: out, s3 } = spec.output;
  // Each night in a folder (prefix) of its own: never over the previous night's parts.
  const output = out
    ? { ...spec.output, persistentVolumeClaim: { ...out, path: `${out.path}/${stamp}` } }
    : s3
      ? { ...spec.output, s3: { ...s3, prefix: `${s3.prefix}${stamp}/` } }
      : spec.output;
  return {
    apiVersion: template.apiVersion ?? "churn.mlops.dev/v1alpha1",
    kind: "ScoringRun",
    metadata: childMetadata(template, childName(template.metadata?.name ?? "", stamp, 253), {
      [SCHEDULED_BY_LABEL]: template.metadata?.name ?? "",
    }),
    spec: {
      ...spec,
      output,
    },
  };
}

/** The finished runs of a schedule past its history limit, oldest first. */
export function runsToPrune(runs: readonly ScoringRun[], historyLimit: number): ScoringRun[] {
  const finished = runs
    .filter((r) => r.status?.phase === "Succeeded" || r.status?.phase === "Failed")
    .sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
  return finished.slice(0, Math.max(0, finished.length - historyLimit));
}
