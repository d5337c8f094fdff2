// `kubectl churn status`: a ChurnModel's rollout drawn the way `kubectl argo rollouts get
// rollout` draws one: a summary, the step list with the current step marked, the last
// analysis as a table, and the last rollouts. Pure: the same model and clock give the same text.
import type { ChurnModel } from "../api/churn-model.js";
import { rolloutStepsOf } from "../api/defaults.js";
import type { MetricResult, RolloutStatus, RolloutStep, VersionRef } from "../api/rollout.js";
import { describeStep } from "../controllers/churnmodel/decide-rollout.js";
import { ago, humanDuration } from "./human-duration.js";
import { rolloutInFlight } from "./manual-action.js";
import { type Palette, palette } from "./palette.js";
import { textTable } from "./text-table.js";

/** How to draw. */
export interface RenderOptions {
  /** ANSI colours (symbols are drawn either way). */
  color?: boolean;
  /** How many rollouts of the history to list (default 5). */
  historyRows?: number;
}

type Phase = NonNullable<RolloutStatus["phase"]>;
type Verdict = MetricResult["verdict"];

const PHASE_SYMBOL: Record<Phase, [string, keyof Palette]> = {
  Progressing: ["◌", "yellow"],
  Paused: ["॥", "cyan"],
  Promoted: ["✔", "green"],
  RolledBack: ["✖", "red"],
  Aborted: ["✖", "red"],
  Inconclusive: ["⚠", "yellow"],
};
const VERDICT_SYMBOL: Record<Verdict, [string, keyof Palette]> = {
  Pass: ["✔", "green"],
  Fail: ["✖", "red"],
  Inconclusive: ["⚠", "yellow"],
};
const OUTCOME_SYMBOL: Record<"Promoted" | "RolledBack" | "Aborted", [string, keyof Palette]> = {
  Promoted: ["✔", "green"],
  RolledBack: ["✖", "red"],
  Aborted: ["✖", "red"],
};

/** Digest prefix as the operator's messages show it. */
export const shortDigest = (d: string | undefined) => (d ? d.slice(0, 12) : "-");

const version = (v: VersionRef | undefined) =>
  v ? `${shortDigest(v.digest)}${v.trainingRun ? ` (${v.trainingRun})` : ""}` : "-";

/** A measured number, short: integers as is, others to 4 significant digits. */
export function formatValue(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return "-";
  if (Number.isInteger(v)) return String(v);
  return String(Number(Math.abs(v) >= 1000 ? v.toFixed(1) : v.toPrecision(4)));
}

const LABEL_WIDTH = 15;
const field = (label: string, value: string) => `${`${label}:`.padEnd(LABEL_WIDTH)}${value}`;

/** Draws a ChurnModel's rollout as text (ends with a newline). */
export function renderRolloutStatus(
  model: ChurnModel,
  now: Date,
  opts: RenderOptions = {},
): string {
  const p = palette(opts.color ?? false);
  const tag = ([symbol, color]: [string, keyof Palette], text: string) =>
    p[color](`${symbol} ${text}`);
  const r = model.status?.rollout;
  const direct = model.spec.strategy === "direct";
  const inFlight = rolloutInFlight(r);
  const steps = rolloutStepsOf(model.spec.rollout);
  const lines: string[] = [
    field("Name", p.bold(model.metadata?.name ?? "")),
    field("Namespace", model.metadata?.namespace ?? ""),
    field("Status", statusOf(r, tag, p)),
  ];
  if (r?.message) lines.push(field("Message", r.message));
  lines.push(
    field("Strategy", strategyOf(model.spec)),
    field("Serving", servingOf(model)),
    field("Stable", version(r?.stable ?? model.status?.serving)),
    field("Canary", inFlight ? version(r?.canary) : "-"),
    ...progressLines(r, inFlight, direct, steps.length, now),
    ...heldBackLines(model, inFlight),
  );
  if (!direct) lines.push("", ...stepLines(steps, r, inFlight, now, p));
  lines.push("", ...analysisLines(r, now, p, tag));
  lines.push("", ...historyLines(r, now, opts.historyRows ?? 5, tag));
  return `${lines.join("\n")}\n`;
}

function strategyOf(spec: ChurnModel["spec"]): string {
  if (spec.strategy === "direct") return "direct (a new version replaces the old one; no canary)";
  return spec.rollout?.trafficRouting === "replicas"
    ? "canary, by replica share (no router)"
    : "canary, through the router (exact weights)";
}

/** Step, weights and start of a rollout in flight; else the weight a canary has (none). */
function progressLines(
  r: RolloutStatus | undefined,
  inFlight: boolean,
  direct: boolean,
  stepCount: number,
  now: Date,
): string[] {
  if (inFlight && r) {
    const i = r.stepIndex ?? 0;
    return [
      field("Step", `${Math.min(i + 1, stepCount)}/${stepCount}`),
      field(
        "Weight",
        `desired ${r.desiredWeight ?? 0}%, effective ${formatValue(r.effectiveWeight ?? 0)}%, mirrored ${r.mirrorPercent ?? 0}%`,
      ),
      field("Started", ago(r.startedAt, now)),
    ];
  }
  return direct ? [] : [field("Weight", "canary 0%: all traffic on stable")];
}

/** The versions held back from rollouts (none listed while one is in flight). */
function heldBackLines(model: ChurnModel, inFlight: boolean): string[] {
  const held = inFlight ? [] : (model.status?.rollout?.rolledBackDigests ?? []);
  if (!held.length) return [];
  return [
    field(
      "Held back",
      `${held.map(shortDigest).join(", ")} (rolled back or aborted; \`kubectl churn retry ${model.metadata?.name ?? "NAME"}\` tries again)`,
    ),
  ];
}

function statusOf(
  r: RolloutStatus | undefined,
  tag: (s: [string, keyof Palette], text: string) => string,
  p: Palette,
): string {
  if (r?.phase) return tag(PHASE_SYMBOL[r.phase], r.phase);
  if (r?.stable) return tag(["✔", "green"], "Stable (no rollout yet)");
  return p.dim("- no version served yet");
}

function servingOf(model: ChurnModel): string {
  const s = model.status;
  if (!s?.phase) return "-";
  return `${s.phase}, ${s.readyReplicas ?? 0}/${s.replicas ?? model.spec.replicas} pods ready`;
}

function stepLines(
  steps: readonly RolloutStep[],
  r: RolloutStatus | undefined,
  inFlight: boolean,
  now: Date,
  p: Palette,
): string[] {
  const current = inFlight ? (r?.stepIndex ?? 0) : -1;
  const allDone = !inFlight && r?.phase === "Promoted";
  const rows = steps.map((step, i) => {
    const text = `${i + 1}. ${describeStep(step)}`;
    if (allDone || i < current) return [p.green(`✔ ${text}`), ""];
    if (i === current) return [p.yellow(p.bold(`► ${text}`)), currentStepNote(step, r, now)];
    return [p.dim(`○ ${text}`), ""];
  });
  return [
    inFlight || allDone ? "Steps:" : "Steps (of the next rollout):",
    ...textTable(rows, "  "),
  ];
}

function currentStepNote(step: RolloutStep, r: RolloutStatus | undefined, now: Date): string {
  if (!r?.stepStartedAt) return "waiting for the canary's pods to be ready";
  const started = `started ${ago(r.stepStartedAt, now)}`;
  if (step.pause && step.pause.durationSeconds === undefined)
    return `${started}; waits for \`kubectl churn promote\``;
  const seconds = step.pause?.durationSeconds ?? step.mirror?.durationSeconds;
  if (seconds === undefined) return `${started}; goes on after a passing analysis`;
  const left = seconds * 1000 - (now.getTime() - Date.parse(r.stepStartedAt));
  return left > 0
    ? `${started}; ${humanDuration(left)} left`
    : `${started}; goes on after a passing analysis`;
}

function analysisLines(
  r: RolloutStatus | undefined,
  now: Date,
  p: Palette,
  tag: (s: [string, keyof Palette], text: string) => string,
): string[] {
  const a = r?.analysis;
  if (!a) return [field("Analysis", p.dim("none yet"))];
  const score = a.score === undefined ? "" : `, score ${a.score}`;
  const rows = [
    ["METRIC", "VERDICT", "CANARY", "STABLE", "THRESHOLD", "SAMPLES"],
    ...a.metrics.map((m) => [
      m.name,
      tag(VERDICT_SYMBOL[m.verdict], m.verdict),
      formatValue(m.value),
      formatValue(m.stable),
      m.threshold ?? "-",
      m.samples === undefined ? "-" : String(m.samples),
    ]),
  ];
  const why = a.metrics
    .filter((m) => m.verdict !== "Pass" && m.message)
    .map((m) => `  ${tag(VERDICT_SYMBOL[m.verdict], `${m.name}: ${m.message}`)}`);
  return [
    field("Analysis", `${tag(VERDICT_SYMBOL[a.verdict], a.verdict)}${score} (${ago(a.at, now)})`),
    ...textTable(rows, "  "),
    ...why,
  ];
}

function historyLines(
  r: RolloutStatus | undefined,
  now: Date,
  max: number,
  tag: (s: [string, keyof Palette], text: string) => string,
): string[] {
  const h = (r?.history ?? []).slice(0, max);
  if (!h.length) return [field("Rollouts", "none yet")];
  const rows = [
    ["OUTCOME", "CANARY", "STABLE", "REASON", "ENDED"],
    ...h.map((e) => [
      tag(OUTCOME_SYMBOL[e.outcome], e.outcome),
      shortDigest(e.canary),
      shortDigest(e.stable),
      e.reason,
      ago(e.endedAt, now),
    ]),
  ];
  const total = r?.history?.length ?? 0;
  return [
    total > h.length ? `Rollouts (last ${h.length} of ${total}):` : "Rollouts:",
    ...textTable(rows, "  "),
  ];
}
