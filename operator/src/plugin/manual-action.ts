// A manual rollout action as `kubectl churn` (or a GitOps tool) asks for it: two annotations
// the operator reads (churn.mlops.dev/rollout-action and -action-id), carried out once per id,
// which then appears in status.rollout.handledActions. Pure: what is refused before writing,
// the patch, and what the status says happened once the operator handled the id.
import type { ChurnModel } from "../api/churn-model.js";
import { rolloutStepsOf } from "../api/defaults.js";
import type { RolloutStatus, VersionRef } from "../api/rollout.js";
import { RolloutAnnotations } from "../controllers/churnmodel/churn-model-controller.js";
import { describeStep, type RolloutAction } from "../controllers/churnmodel/decide-rollout.js";

/** What the operator can be asked to do. */
export type ActionKind = RolloutAction["kind"];

/**
 * Whether a canary is out: the operator only follows promote and abort then (and a retry only
 * when none is). The same test as decide-rollout's `inFlight`, which is not exported.
 */
export function rolloutInFlight(r: RolloutStatus | undefined): boolean {
  return (
    !!r?.canary && (r.phase === "Progressing" || r.phase === "Paused" || r.phase === "Inconclusive")
  );
}

const version = (v: VersionRef | undefined) =>
  v ? `${v.digest.slice(0, 12)}${v.trainingRun ? ` (${v.trainingRun})` : ""}` : "none";

/**
 * Why the action would do nothing now, or undefined when it can go ahead. Checked before
 * writing: the operator marks any action handled, also one that has nothing to act on.
 */
export function refuseAction(kind: ActionKind, model: ChurnModel): string | undefined {
  const id = `ChurnModel ${model.metadata?.namespace}/${model.metadata?.name}`;
  if (model.spec.strategy === "direct")
    return `${id} uses strategy: direct: new versions replace the old one at once, there are no rollouts to ${kind}`;
  const r = model.status?.rollout;
  const inFlight = rolloutInFlight(r);
  if (kind === "retry") {
    if (inFlight)
      return `${id} has a rollout in progress (canary ${version(r?.canary)}, ${r?.phase}): promote or abort it first`;
    if (!r?.rolledBackDigests?.length)
      return `nothing to retry: no version of ${id} was rolled back or aborted`;
    return undefined;
  }
  if (!inFlight)
    return `no rollout in progress for ${id}${r?.phase ? ` (the last one: ${r.phase})` : ""}: nothing to ${kind === "promote-full" ? "promote" : kind}`;
  return undefined;
}

/** The JSON merge patch that asks for `kind` under a fresh `id`. */
export function actionPatch(kind: ActionKind, id: string) {
  return {
    metadata: {
      annotations: { [RolloutAnnotations.action]: kind, [RolloutAnnotations.actionId]: id },
    },
  };
}

/** Whether the operator has carried out action `id`. */
export function actionHandled(model: ChurnModel, id: string): boolean {
  return model.status?.rollout?.handledActions?.includes(id) ?? false;
}

/** What a handled action did: a line for the user, and whether it had the intended effect. */
export interface ActionOutcome {
  ok: boolean;
  message: string;
}

/** The rollouts before the request and after the operator handled it, and its steps. */
interface Handled {
  r0: RolloutStatus | undefined;
  r1: RolloutStatus | undefined;
  stepCount: number;
  steps: ReturnType<typeof rolloutStepsOf>;
}

const done = (message: string): ActionOutcome => ({ ok: true, message });

/** Whether the canary of before is the stable version now, promoted. */
const promotedCanary = ({ r0, r1 }: Handled) =>
  r1?.phase === "Promoted" && !!r0?.canary && r1.stable?.digest === r0.canary.digest;

/** Each action's success, when the status shows it; undefined when it did not happen. */
const succeeded: Record<ActionKind, (h: Handled) => ActionOutcome | undefined> = {
  abort: ({ r0, r1 }) =>
    r1?.phase === "Aborted" && r1.history?.[0]?.canary === r0?.canary?.digest
      ? done(
          `aborted ${version(r0?.canary)}: all traffic back on stable ${version(r1.stable)} (canary weight 0)`,
        )
      : undefined,
  "promote-full": (h) =>
    promotedCanary(h)
      ? done(`promoted ${version(h.r1?.stable)}: it is the stable version now`)
      : undefined,
  promote: (h) =>
    promotedCanary(h)
      ? done(`promoted ${version(h.r1?.stable)} after its last step: it is the stable version now`)
      : stepFinished(h),
  retry: ({ r1, stepCount }) =>
    rolloutInFlight(r1)
      ? done(`retrying ${version(r1?.canary)}: the rollout starts again at step 1/${stepCount}`)
      : undefined,
};

/** A promote that finished one step: the same canary, now at a later step. */
function stepFinished({ r0, r1, steps, stepCount }: Handled): ActionOutcome | undefined {
  const i0 = r0?.stepIndex ?? 0;
  const i1 = r1?.stepIndex ?? 0;
  if (!(rolloutInFlight(r1) && r1?.canary?.digest === r0?.canary?.digest && i1 > i0))
    return undefined;
  const step = steps[i1];
  return done(
    `step ${i0 + 1}/${stepCount} done; now at step ${i1 + 1}/${stepCount}${step ? `: ${describeStep(step)}` : ""}`,
  );
}

/**
 * Compares the rollout before the request with the one the operator wrote when it handled it.
 * An action can be handled and still change nothing (the canary's pods not ready yet, the
 * rollout ended meanwhile, the source no longer resolving to the rolled-back version).
 */
export function actionOutcome(
  kind: ActionKind,
  before: ChurnModel,
  after: ChurnModel,
): ActionOutcome {
  const steps = rolloutStepsOf(after.spec.rollout);
  const h: Handled = {
    r0: before.status?.rollout,
    r1: after.status?.rollout,
    steps,
    stepCount: steps.length,
  };
  const r1 = h.r1;
  const why = r1?.message ? `: ${r1.message}` : "";
  const outcome = succeeded[kind](h);
  if (outcome) return outcome;
  if (kind === "retry")
    return { ok: false, message: `the operator took the retry but started no rollout${why}` };
  const at = r1?.stepIndex === undefined ? "" : ` at step ${r1.stepIndex + 1}/${steps.length}`;
  return {
    ok: false,
    message: `the operator took the ${kind} but the rollout is ${r1?.phase ?? "not started"}${at}${why}`,
  };
}
