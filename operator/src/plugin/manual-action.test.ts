// The plugin's side of the manual-action contract, checked against the operator's side: the
// annotations are read back by the controller's own `actionOf`, and every "after" status comes
// from the operator's own decision function, so what the plugin refuses, waits for and reports
// is what the operator really does.
import { describe, expect, it } from "vitest";
import type { ChurnModel } from "../api/churn-model.js";
import type { RolloutStatus, RolloutStep } from "../api/rollout.js";
import { actionOf } from "../controllers/churnmodel/churn-model-controller.js";
import {
  decideRollout,
  type RolloutAction,
  type RolloutInput,
} from "../controllers/churnmodel/decide-rollout.js";
import {
  type ActionKind,
  actionHandled,
  actionOutcome,
  actionPatch,
  refuseAction,
  rolloutInFlight,
} from "./manual-action.js";

const v1 = { digest: "a".repeat(64), uri: "pvc://m/a", trainingRun: "v1" };
const v2 = { digest: "b".repeat(64), uri: "pvc://m/b", trainingRun: "v2" };
const t0 = new Date("2026-01-01T00:00:00Z");
const steps: RolloutStep[] = [{ setWeight: 50 }, { pause: {} }, { setWeight: 80 }];
const spec = { rollout: { trafficRouting: "replicas" as const, steps } };

const model = (rollout: RolloutStatus | undefined, strategy?: "direct"): ChurnModel => ({
  metadata: { name: "bank", namespace: "ns" },
  spec: {
    source: { latestFrom: {} },
    replicas: 1,
    explanations: { enabled: true },
    ...spec,
    ...(strategy ? { strategy } : {}),
  },
  status: rollout && { rollout },
});

const atStep = (i: number, extra: Partial<RolloutStatus> = {}): RolloutStatus => ({
  phase: i === 1 ? "Paused" : "Progressing",
  stable: v1,
  canary: v2,
  stepIndex: i,
  stepStartedAt: "2025-12-31T23:59:00Z",
  startedAt: "2025-12-31T23:58:00Z",
  desiredWeight: 50,
  ...extra,
});
const aborted: RolloutStatus = {
  phase: "Aborted",
  stable: v1,
  rolledBackDigests: [v2.digest],
  history: [{ canary: v2.digest, outcome: "Aborted", reason: "Aborted", endedAt: "x" }],
};

/** What the operator writes after a pass that sees this action (the source resolves to v2). */
function operatorAfter(
  before: ChurnModel,
  action: RolloutAction,
  over: Partial<RolloutInput> = {},
): ChurnModel {
  const d = decideRollout({
    spec: before.spec,
    status: before.status?.rollout,
    desired: v2,
    canaryReady: true,
    action,
    now: t0,
    ...over,
  });
  return { ...before, status: { ...before.status, rollout: d.status } };
}

describe("actionPatch", () => {
  it.each<ActionKind>(["promote", "promote-full", "abort", "retry"])(
    "%s: the operator's controller reads back the same action and id",
    (kind) => {
      const patch = actionPatch(kind, "id-1");
      expect(actionOf({ ...model(undefined), ...patch })).toEqual({ kind, id: "id-1" });
    },
  );
});

describe("refuseAction", () => {
  it.each<{ what: string; kind: ActionKind; status: RolloutStatus | undefined; refusal: RegExp }>([
    {
      what: "promote with no rollout",
      kind: "promote",
      status: { stable: v1 },
      refusal: /^no rollout in progress for ChurnModel ns\/bank: nothing to promote$/,
    },
    {
      what: "promote --full after an abort",
      kind: "promote-full",
      status: aborted,
      refusal: /no rollout in progress .*\(the last one: Aborted\): nothing to promote$/,
    },
    {
      what: "abort after an abort",
      kind: "abort",
      status: aborted,
      refusal: /nothing to abort$/,
    },
    {
      what: "abort before the operator wrote anything",
      kind: "abort",
      status: undefined,
      refusal: /no rollout in progress/,
    },
    {
      what: "retry during a rollout",
      kind: "retry",
      status: atStep(1),
      refusal:
        /rollout in progress \(canary bbbbbbbbbbbb \(v2\), Paused\): promote or abort it first/,
    },
    {
      what: "retry with nothing rolled back",
      kind: "retry",
      status: { phase: "Promoted", stable: v2 },
      refusal: /^nothing to retry: no version of ChurnModel ns\/bank was rolled back or aborted$/,
    },
  ])("refuses $what, and the operator would indeed change nothing", ({ kind, status, refusal }) => {
    const before = model(status);
    expect(refuseAction(kind, before)).toMatch(refusal);
    // Sent anyway, the operator marks it handled and changes nothing: only a refusal tells.
    const desired = status?.canary ?? status?.stable ?? v1;
    const after = operatorAfter(before, { kind, id: "x" }, { desired });
    const r0 = before.status?.rollout;
    const r1 = after.status?.rollout;
    expect([r1?.phase, r1?.stable?.digest, r1?.canary?.digest, r1?.stepIndex]).toEqual([
      r0?.phase,
      r0?.stable?.digest ?? v1.digest,
      r0?.canary?.digest,
      r0?.stepIndex,
    ]);
  });

  it("refuses every action on strategy: direct", () => {
    for (const kind of ["promote", "abort", "retry"] as const)
      expect(refuseAction(kind, model(atStep(0), "direct"))).toMatch(/strategy: direct/);
  });

  it.each<{ kind: ActionKind; status: RolloutStatus }>([
    { kind: "promote", status: atStep(1) },
    { kind: "promote-full", status: atStep(0) },
    { kind: "abort", status: atStep(0, { phase: "Inconclusive" }) },
    { kind: "retry", status: aborted },
  ])("lets $kind go ahead in phase $status.phase", ({ kind, status }) => {
    expect(refuseAction(kind, model(status))).toBeUndefined();
  });
});

describe("actionOutcome, on what the operator wrote", () => {
  it.each<{ kind: ActionKind; status: RolloutStatus; message: string }>([
    {
      kind: "promote",
      status: atStep(1),
      message: "step 2/3 done; now at step 3/3: canary weight 80%",
    },
    {
      kind: "promote",
      status: atStep(2),
      message: "promoted bbbbbbbbbbbb (v2) after its last step: it is the stable version now",
    },
    {
      kind: "promote-full",
      status: atStep(0),
      message: "promoted bbbbbbbbbbbb (v2): it is the stable version now",
    },
    {
      kind: "abort",
      status: atStep(1),
      message:
        "aborted bbbbbbbbbbbb (v2): all traffic back on stable aaaaaaaaaaaa (v1) (canary weight 0)",
    },
    {
      kind: "retry",
      status: aborted,
      message: "retrying bbbbbbbbbbbb (v2): the rollout starts again at step 1/3",
    },
  ])("$kind from $status.phase: $message", ({ kind, status, message }) => {
    const before = model(status);
    const after = operatorAfter(before, { kind, id: "id-7" });
    expect(actionHandled(after, "id-7")).toBe(true);
    expect(actionHandled(after, "id-8")).toBe(false);
    expect(actionOutcome(kind, before, after)).toEqual({ ok: true, message });
  });

  it("leaves a promote pending while the canary's pods are not ready (the operator keeps it)", () => {
    const before = model(atStep(1));
    const after = operatorAfter(before, { kind: "promote", id: "id-9" }, { canaryReady: false });
    expect(actionHandled(after, "id-9")).toBe(false);
    const ready = operatorAfter(after, { kind: "promote", id: "id-9" });
    expect(actionHandled(ready, "id-9")).toBe(true);
  });

  it("says so when a handled retry started nothing (the source moved to another version)", () => {
    const before = model(aborted);
    const after = operatorAfter(before, { kind: "retry", id: "id-10" }, { desired: v1 });
    expect(actionHandled(after, "id-10")).toBe(true);
    expect(actionOutcome("retry", before, after)).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^the operator took the retry but started no rollout/),
    });
  });

  it("says so when the rollout ended on its own before an abort was handled", () => {
    const before = model(atStep(2));
    const promoted = operatorAfter(before, { kind: "promote", id: "other" });
    const after = operatorAfter(promoted, { kind: "abort", id: "id-11" });
    expect(actionOutcome("abort", before, after)).toEqual({
      ok: false,
      message: `the operator took the abort but the rollout is Promoted: ${promoted.status?.rollout?.message}`,
    });
  });
});

describe("rolloutInFlight", () => {
  it.each<[string, RolloutStatus | undefined, boolean]>([
    ["no status", undefined, false],
    ["a first version", { stable: v1 }, false],
    ["Progressing", atStep(0), true],
    ["Paused", atStep(1), true],
    ["Inconclusive", atStep(0, { phase: "Inconclusive" }), true],
    ["Aborted", aborted, false],
    ["Promoted", { phase: "Promoted", stable: v2 }, false],
  ])("%s -> %s", (_, status, inFlight) => expect(rolloutInFlight(status)).toBe(inFlight));
});
