// The rollout state machine: from (spec, the last rollout status, the version the source now
// resolves to, whether the canary's pods are ready, the latest analysis verdict, a manual
// action, now) to the next rollout status, the traffic to set and the Events to record. Pure
// and table-tested; the controller only gathers these inputs and applies the outputs. The step
// index lives in status, so a restarted operator or a new leader resumes where it was.
import type { ChurnModelSpec } from "../../api/churn-model.js";
import { rfc3339 } from "../../api/condition.js";
import {
  analysisOf,
  type ResolvedAnalysis,
  RolloutDefaults,
  rolloutStepsOf,
} from "../../api/defaults.js";
import { Reasons } from "../../api/reasons.js";
import type { RolloutStatus, RolloutStep, VersionRef } from "../../api/rollout.js";
import type { Verdict } from "./analysis/judge.js";
import type { ServableVersion } from "./resolve-source.js";

/** A manual action from `kubectl churn` or an annotation; `id` makes it happen once. */
export interface RolloutAction {
  kind: "promote" | "promote-full" | "abort" | "retry";
  id: string;
}

/** Everything the decision reads. */
export interface RolloutInput {
  spec: Pick<ChurnModelSpec, "strategy" | "rollout">;
  status: RolloutStatus | undefined;
  /** The version the source resolves to now (undefined while it cannot resolve). */
  desired: ServableVersion | undefined;
  /** Whether every canary pod is Ready (only then does it get traffic). */
  canaryReady: boolean;
  /** The analysis made this pass, if one was due. */
  verdict?: Verdict;
  action?: RolloutAction;
  now: Date;
}

/** An Event to record. */
export interface RolloutEvent {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

/** What to do. */
export interface RolloutDecision {
  status: RolloutStatus;
  /** The version answering users. */
  stable?: VersionRef;
  /** The version rolling out, whose pods should exist. */
  canary?: VersionRef;
  /** Share of requests the canary answers (0 until its pods are ready). */
  weight: number;
  /** Share of requests copied to the canary (0 until its pods are ready). */
  mirrorPercent: number;
  /** The step's weight and mirror share whether or not the canary is ready: what to size for. */
  planned: { weight: number; mirrorPercent: number };
  events: RolloutEvent[];
  /** Whether analysis should run while this state lasts. */
  analyze: boolean;
}

const short = (d: string | undefined) => (d ?? "").slice(0, 12);
const ref = (v: ServableVersion): VersionRef => ({
  digest: v.digest,
  uri: v.uri,
  ...(v.trainingRun ? { trainingRun: v.trainingRun } : {}),
});
const name = (v: VersionRef | undefined) =>
  v ? `${short(v.digest)}${v.trainingRun ? ` (${v.trainingRun})` : ""}` : "none";

/** The canary weight in force at step `i`: the last setWeight at or before it. */
export function weightAt(steps: readonly RolloutStep[], i: number): number {
  for (let j = Math.min(i, steps.length - 1); j >= 0; j--) {
    const w = steps[j]?.setWeight;
    if (w !== undefined) return w;
  }
  return 0;
}

/** The share mirrored at step `i` (only during a mirror step). */
export function mirrorAt(steps: readonly RolloutStep[], i: number): number {
  const m = steps[i]?.mirror;
  return m ? (m.percent ?? RolloutDefaults.mirrorPercent) : 0;
}

/** Decides the next rollout state; see the module comment. */
export function decideRollout(input: RolloutInput): RolloutDecision {
  const ctx = context(input);
  const prev = input.status ?? {};
  const stable = prev.stable;
  if (!stable) return firstVersion(ctx);
  if ((input.spec.strategy ?? "canary") === "direct") return direct(ctx, stable);
  if (prev.canary && inFlight(prev)) return progress(ctx, stable, prev.canary);
  return idle(ctx, stable);
}

interface Ctx {
  input: RolloutInput;
  prev: RolloutStatus;
  steps: readonly RolloutStep[];
  analysis: ResolvedAnalysis;
  now: string;
  events: RolloutEvent[];
  handled: string[];
}

function context(input: RolloutInput): Ctx {
  const prev = input.status ?? {};
  return {
    input,
    prev,
    steps: rolloutStepsOf(input.spec.rollout),
    analysis: analysisOf(input.spec.rollout?.analysis),
    now: rfc3339(input.now),
    events: [],
    handled: [...(prev.handledActions ?? [])],
  };
}

/** Whether a rollout status has a canary going (not ended). */
export function inFlight(s: RolloutStatus): boolean {
  return s.phase === "Progressing" || s.phase === "Paused" || s.phase === "Inconclusive";
}

/** The pending action, not yet handled. */
function pendingAction(ctx: Ctx): RolloutAction | undefined {
  const a = ctx.input.action;
  return a && !ctx.handled.includes(a.id) ? a : undefined;
}

/** Marks an action handled (kept to the last 20 ids), so it happens once. */
function markHandled(ctx: Ctx, a: RolloutAction): RolloutAction {
  ctx.handled = [...ctx.handled, a.id].slice(-20);
  return a;
}

/** An action that cannot apply now: handled (it will never apply), and said in an Event. */
function ignoreAction(ctx: Ctx, a: RolloutAction, why: string): void {
  markHandled(ctx, a);
  ctx.events.push({
    type: "Warning",
    reason: Reasons.ActionIgnored,
    message: `${a.kind} ignored: ${why}`,
  });
}

function steady(ctx: Ctx, status: RolloutStatus, stable: VersionRef): RolloutDecision {
  return {
    status: { ...status, handledActions: ctx.handled },
    stable,
    weight: 0,
    mirrorPercent: 0,
    planned: { weight: 0, mirrorPercent: 0 },
    events: ctx.events,
    analyze: false,
  };
}

/** The first model of a ChurnModel goes straight to stable. */
function firstVersion(ctx: Ctx): RolloutDecision {
  const d = ctx.input.desired;
  if (!d)
    return {
      status: ctx.prev,
      weight: 0,
      mirrorPercent: 0,
      planned: { weight: 0, mirrorPercent: 0 },
      events: [],
      analyze: false,
    };
  const stable = ref(d);
  return steady(ctx, { ...ctx.prev, stable, canary: undefined }, stable);
}

/** strategy: direct keeps the plain rolling replace: the desired version is stable at once. */
function direct(ctx: Ctx, stable: VersionRef): RolloutDecision {
  const d = ctx.input.desired;
  const next = d ? ref(d) : stable;
  if (next.digest !== stable.digest)
    ctx.events.push({
      type: "Normal",
      reason: Reasons.NewVersionSelected,
      message: `serving ${name(next)}, replacing ${name(stable)} (strategy direct)`,
    });
  return steady(
    ctx,
    {
      ...ctx.prev,
      stable: next,
      canary: undefined,
      phase: ctx.prev.phase && inFlight(ctx.prev) ? undefined : ctx.prev.phase,
    },
    next,
  );
}

/** No canary: start one when the source resolves to a new digest not rolled back before. */
function idle(ctx: Ctx, stable: VersionRef): RolloutDecision {
  const { input, prev } = ctx;
  let rolledBack = prev.rolledBackDigests ?? [];
  const action = pendingAction(ctx);
  const d = input.desired;
  if (action?.kind === "retry" && d && rolledBack.includes(d.digest)) {
    markHandled(ctx, action);
    rolledBack = rolledBack.filter((x) => x !== d.digest);
    ctx.events.push({
      type: "Normal",
      reason: Reasons.Retried,
      message: `retrying ${name(ref(d))}`,
    });
  } else if (action) {
    ignoreAction(
      ctx,
      action,
      action.kind === "retry"
        ? "the source's version was not rolled back or aborted"
        : "no rollout in progress",
    );
  }
  const base = { ...prev, rolledBackDigests: rolledBack, canary: undefined };
  if (!d || d.digest === stable.digest) return steady(ctx, base, stable);
  if (rolledBack.includes(d.digest)) {
    // Keep saying why: the last rollout of this digest, from history.
    const last = prev.history?.find((h) => h.canary === d.digest);
    const what =
      last?.message ??
      `${name(ref(d))} was ${prev.phase === "Aborted" ? "aborted" : "rolled back"}`;
    return steady(
      ctx,
      { ...base, message: `${what}; \`kubectl churn retry\` tries it again` },
      stable,
    );
  }
  return start(ctx, { ...base }, stable, ref(d));
}

function start(
  ctx: Ctx,
  base: RolloutStatus,
  stable: VersionRef,
  canary: VersionRef,
  supersedes?: VersionRef,
): RolloutDecision {
  const message = `rolling out ${name(canary)} against stable ${name(stable)}${supersedes ? `, superseding ${name(supersedes)}` : ""}`;
  ctx.events.push({ type: "Normal", reason: Reasons.RolloutStarted, message });
  const status: RolloutStatus = {
    ...base,
    phase: "Progressing",
    stable,
    canary,
    stepIndex: 0,
    stepStartedAt: undefined,
    startedAt: ctx.now,
    desiredWeight: weightAt(ctx.steps, 0),
    mirrorPercent: mirrorAt(ctx.steps, 0),
    analysis: undefined,
    reason: Reasons.RolloutStarted,
    message,
  };
  return {
    status: { ...status, handledActions: ctx.handled },
    stable,
    canary,
    weight: 0,
    mirrorPercent: 0,
    planned: { weight: weightAt(ctx.steps, 0), mirrorPercent: mirrorAt(ctx.steps, 0) },
    events: ctx.events,
    analyze: false,
  };
}

/** Ends a rollout: the outcome goes to history (newest first, 10 kept). */
function finish(
  ctx: Ctx,
  outcome: "Promoted" | "RolledBack" | "Aborted",
  reason: string,
  message: string,
  stable: VersionRef,
  canary: VersionRef,
): RolloutDecision {
  const prev = ctx.prev;
  const promoted = outcome === "Promoted";
  const entry = {
    canary: canary.digest,
    stable: prev.stable?.digest,
    outcome,
    reason,
    message,
    startedAt: prev.startedAt,
    endedAt: ctx.now,
  };
  ctx.events.push({ type: promoted ? "Normal" : "Warning", reason, message });
  const newStable = promoted ? canary : stable;
  const rolledBack =
    promoted || reason === Reasons.Superseded
      ? prev.rolledBackDigests
      : [...(prev.rolledBackDigests ?? []).filter((d) => d !== canary.digest), canary.digest].slice(
          -20,
        );
  return steady(
    ctx,
    {
      ...prev,
      // The analysis that ended it (a rollback's failing one), not the one before.
      analysis: analysisStatus(ctx),
      phase: outcome,
      stable: newStable,
      canary: undefined,
      stepIndex: undefined,
      stepStartedAt: undefined,
      desiredWeight: 0,
      effectiveWeight: 0,
      mirrorPercent: 0,
      reason,
      message,
      rolledBackDigests: rolledBack,
      history: [entry, ...(prev.history ?? [])].slice(0, RolloutDefaults.historyLength),
    },
    newStable,
  );
}

/** A canary is out: follow actions, verdicts and the steps. */
function progress(ctx: Ctx, stable: VersionRef, canary: VersionRef): RolloutDecision {
  const { input } = ctx;
  const d = input.desired;
  if (d && d.digest !== canary.digest) {
    // The source moved on: a newer run replaces the canary; back to stable, the canary ends.
    const superseded = finish(
      ctx,
      "Aborted",
      Reasons.Superseded,
      `${name(canary)} superseded by ${name(ref(d))}`,
      stable,
      canary,
    );
    if (d.digest === stable.digest) return superseded;
    ctx.prev = superseded.status;
    return start(ctx, ctx.prev, stable, ref(d), canary);
  }
  const action = actionInRollout(ctx);
  if (action?.kind === "abort")
    return finish(
      ctx,
      "Aborted",
      Reasons.Aborted,
      `aborted by hand: ${name(canary)}`,
      stable,
      canary,
    );
  if (action?.kind === "promote-full")
    return finish(
      ctx,
      "Promoted",
      Reasons.Promoted,
      `${name(canary)} promoted by hand`,
      stable,
      canary,
    );
  const failed = verdictEnds(ctx, stable, canary);
  if (failed) return failed;
  return stepForward(ctx, stable, canary, action?.kind === "promote");
}

/**
 * The action to carry out during a rollout: abort and promote-full at once; promote once the
 * canary is ready (it waits until then, so it is not lost); retry has nothing to retry.
 */
function actionInRollout(ctx: Ctx): RolloutAction | undefined {
  const a = pendingAction(ctx);
  if (!a) return undefined;
  if (a.kind === "retry") {
    ignoreAction(ctx, a, "a rollout is in progress (abort it first)");
    return undefined;
  }
  if (a.kind === "promote" && !ctx.input.canaryReady) return undefined;
  return markHandled(ctx, a);
}

/** A failed analysis (or no data for too long with onNoData: rollback) rolls back at once. */
function verdictEnds(
  ctx: Ctx,
  stable: VersionRef,
  canary: VersionRef,
): RolloutDecision | undefined {
  const v = ctx.input.verdict;
  if (!v) return undefined;
  const rollBack = (eventReason: string, why: string) => {
    ctx.events.push({ type: "Warning", reason: eventReason, message: why });
    const message = `rolled back ${name(canary)}: ${why}`;
    return finish(ctx, "RolledBack", Reasons.RolledBack, message, stable, canary);
  };
  if (v.verdict === "Fail") {
    const failed = v.metrics.filter((m) => m.verdict === "Fail");
    return rollBack(
      Reasons.AnalysisFailed,
      failed.map((m) => `${m.name}: ${m.message}`).join("; "),
    );
  }
  const count = v.verdict === "Inconclusive" ? (ctx.prev.analysis?.inconclusiveCount ?? 0) + 1 : 0;
  if (ctx.analysis.onNoData === "rollback" && count >= RolloutDefaults.noDataRollbackAfter)
    return rollBack(
      Reasons.AnalysisInconclusive,
      `no verdict in ${count} analyses: ${describe(v)}`,
    );
  return undefined;
}

function describe(v: Verdict): string {
  return v.metrics
    .filter((m) => m.verdict !== "Pass")
    .map((m) => `${m.name}: ${m.message ?? m.verdict}`)
    .join("; ");
}

/** The analysis part of status after this pass's verdict (or the previous one). */
function analysisStatus(ctx: Ctx): RolloutStatus["analysis"] {
  const v = ctx.input.verdict;
  const prev = ctx.prev.analysis;
  if (!v) return prev;
  const passing = v.verdict === "Pass";
  return {
    at: ctx.now,
    verdict: v.verdict,
    metrics: v.metrics,
    windowStart: rfc3339(v.windowStart),
    score: v.score,
    passedSince: passing ? (prev?.verdict === "Pass" ? prev.passedSince : ctx.now) : undefined,
    inconclusiveCount: v.verdict === "Inconclusive" ? (prev?.inconclusiveCount ?? 0) + 1 : 0,
  };
}

/** Whether the step at `i` has done its part (duration elapsed, analysis passed since). */
function stepDone(
  ctx: Ctx,
  step: RolloutStep,
  startedAt: string,
  analysis: RolloutStatus["analysis"],
): boolean {
  const elapsedS = (ctx.input.now.getTime() - Date.parse(startedAt)) / 1000;
  if (step.pause && step.pause.durationSeconds === undefined) return false;
  const duration =
    step.pause?.durationSeconds ??
    (step.mirror ? (step.mirror.durationSeconds ?? RolloutDefaults.mirrorDurationSeconds) : 0);
  if (elapsedS < duration) return false;
  // Never advance (let alone promote) on no data: a pass measured wholly inside this step.
  return (
    analysis?.verdict === "Pass" &&
    analysis.windowStart !== undefined &&
    Date.parse(analysis.windowStart) >= Date.parse(startedAt)
  );
}

function stepForward(
  ctx: Ctx,
  stable: VersionRef,
  canary: VersionRef,
  promoteStep: boolean,
): RolloutDecision {
  const { input, prev, steps } = ctx;
  const analysis = analysisStatus(ctx);
  let i = prev.stepIndex ?? 0;
  announceVerdictChange(ctx);
  if (!input.canaryReady) {
    const message = `waiting for the canary ${name(canary)} pods to be ready (no traffic until then)`;
    return running(
      ctx,
      { ...prev, analysis, stepStartedAt: undefined, message },
      stable,
      canary,
      i,
      false,
    );
  }
  let startedAt = prev.stepStartedAt ?? ctx.now;
  const step = steps[i];
  if (step && (promoteStep || stepDone(ctx, step, startedAt, analysis))) {
    i += 1;
    startedAt = ctx.now;
    if (i >= steps.length)
      return finish(
        ctx,
        "Promoted",
        Reasons.Promoted,
        `${name(canary)} promoted after ${steps.length} steps`,
        stable,
        canary,
      );
    ctx.events.push({
      type: "Normal",
      reason: Reasons.StepAdvanced,
      message: `step ${i + 1}/${steps.length}: ${describeStep(steps[i] as RolloutStep)}`,
    });
  }
  const current = steps[i] as RolloutStep;
  const paused = current.pause !== undefined && current.pause.durationSeconds === undefined;
  const message = stepMessage(analysis, current, `${i + 1}/${steps.length}`, paused);
  return running(
    ctx,
    { ...prev, analysis, stepStartedAt: startedAt, message },
    stable,
    canary,
    i,
    paused,
  );
}

/** An event when the analysis verdict changes to Pass or Inconclusive. */
function announceVerdictChange(ctx: Ctx): void {
  const v = ctx.input.verdict;
  if (!v || v.verdict === ctx.prev.analysis?.verdict) return;
  const passed = v.verdict === "Pass";
  ctx.events.push({
    type: passed ? "Normal" : "Warning",
    reason: passed ? Reasons.AnalysisPassed : Reasons.AnalysisInconclusive,
    message: passed ? `analysis passed (score ${v.score})` : describe(v),
  });
}

/** What a running rollout waits for at step `at` ("2/5"): analysis, a promotion, or its step. */
function stepMessage(
  analysis: RolloutStatus["analysis"],
  current: RolloutStep,
  at: string,
  paused: boolean,
): string {
  if (analysis?.verdict === "Inconclusive") {
    const why = analysis.metrics
      .filter((m) => m.verdict !== "Pass")
      .map((m) => `${m.name}: ${m.message ?? m.verdict}`)
      .join("; ");
    return `holding at step ${at} (${describeStep(current)}): ${why}`;
  }
  if (paused) return `paused at step ${at}: \`kubectl churn promote\` to go on`;
  return `step ${at}: ${describeStep(current)}`;
}

function running(
  ctx: Ctx,
  s: RolloutStatus,
  stable: VersionRef,
  canary: VersionRef,
  i: number,
  paused: boolean,
): RolloutDecision {
  const ready = ctx.input.canaryReady;
  const weight = ready ? weightAt(ctx.steps, i) : 0;
  const mirrorPercent = ready ? mirrorAt(ctx.steps, i) : 0;
  const phase =
    s.analysis?.verdict === "Inconclusive" ? "Inconclusive" : paused ? "Paused" : "Progressing";
  return {
    status: {
      ...s,
      phase,
      stable,
      canary,
      stepIndex: i,
      desiredWeight: weightAt(ctx.steps, i),
      mirrorPercent,
      handledActions: ctx.handled,
      reason: s.reason,
    },
    stable,
    canary,
    weight,
    mirrorPercent,
    planned: { weight: weightAt(ctx.steps, i), mirrorPercent: mirrorAt(ctx.steps, i) },
    events: ctx.events,
    analyze: ready,
  };
}

/** A step in words. */
export function describeStep(s: RolloutStep): string {
  if (s.mirror)
    return `mirror ${s.mirror.percent ?? RolloutDefaults.mirrorPercent}% for ${s.mirror.durationSeconds ?? RolloutDefaults.mirrorDurationSeconds} s`;
  if (s.setWeight !== undefined) return `canary weight ${s.setWeight}%`;
  return s.pause?.durationSeconds === undefined
    ? "pause until promoted"
    : `pause ${s.pause.durationSeconds} s`;
}
