import { describe, expect, it } from "vitest";
import type { RolloutStatus, RolloutStep } from "../../api/rollout.js";
import type { Verdict } from "./analysis/judge.js";
import { decideRollout, mirrorAt, type RolloutInput, weightAt } from "./decide-rollout.js";

const v1 = { digest: "a".repeat(64), uri: "pvc://m/a", trainingRun: "run-1" };
const v2 = { digest: "b".repeat(64), uri: "pvc://m/b", trainingRun: "run-2" };
const v3 = { digest: "c".repeat(64), uri: "pvc://m/c", trainingRun: "run-3" };
const t0 = new Date("2026-01-01T00:00:00Z");
const at = (s: number) => new Date(t0.getTime() + s * 1000);
const iso = (s: number) =>
  at(s)
    .toISOString()
    .replace(/\.\d{3}Z$/, "Z");

const steps: RolloutStep[] = [
  { mirror: { percent: 100, durationSeconds: 30 } },
  { setWeight: 10 },
  { pause: { durationSeconds: 20 } },
  { setWeight: 50 },
  { pause: {} },
];
const spec = { rollout: { steps } };

const pass = (windowStartS: number): Verdict => ({
  verdict: "Pass",
  metrics: [{ name: "successRate", verdict: "Pass", message: "0 errors" }],
  windowStart: at(windowStartS),
  score: 100,
});
const fail = (windowStartS: number): Verdict => ({
  verdict: "Fail",
  metrics: [{ name: "successRate", verdict: "Fail", message: "canary success rate 0.5" }],
  windowStart: at(windowStartS),
  score: 0,
});
const noData = (windowStartS: number): Verdict => ({
  verdict: "Inconclusive",
  metrics: [{ name: "successRate", verdict: "Inconclusive", message: "served 3 requests" }],
  windowStart: at(windowStartS),
  score: 0,
});

const input = (over: Partial<RolloutInput>): RolloutInput => ({
  spec,
  status: undefined,
  desired: v1,
  canaryReady: true,
  now: t0,
  ...over,
});
const stableOnly: RolloutStatus = { stable: v1 };
const reasons = (d: { events: { reason: string }[] }) => d.events.map((e) => e.reason);

/** A rollout of v2 at step `i`, which began at `startedS`. */
const atStep = (
  i: number,
  startedS: number,
  extra: Partial<RolloutStatus> = {},
): RolloutStatus => ({
  phase: "Progressing",
  stable: v1,
  canary: v2,
  stepIndex: i,
  stepStartedAt: iso(startedS),
  startedAt: iso(0),
  ...extra,
});

describe("weightAt / mirrorAt", () => {
  it("carry the last setWeight forward and mirror only during a mirror step", () => {
    expect([0, 1, 2, 3, 4].map((i) => weightAt(steps, i))).toEqual([0, 10, 10, 50, 50]);
    expect([0, 1, 2].map((i) => mirrorAt(steps, i))).toEqual([100, 0, 0]);
  });
});

describe("decideRollout", () => {
  it("sends the first model straight to stable", () => {
    const d = decideRollout(input({}));
    expect(d.stable?.digest).toBe(v1.digest);
    expect(d.canary).toBeUndefined();
    expect(d.events).toEqual([]);
    expect(d.status.phase).toBeUndefined();
  });

  it("starts a rollout for a new digest, with no traffic until a pass begins", () => {
    const d = decideRollout(input({ status: stableOnly, desired: v2 }));
    expect(reasons(d)).toEqual(["RolloutStarted"]);
    expect(d.stable?.digest).toBe(v1.digest);
    expect(d.canary?.digest).toBe(v2.digest);
    expect([d.weight, d.mirrorPercent, d.analyze]).toEqual([0, 0, false]);
    expect(d.status).toMatchObject({ phase: "Progressing", stepIndex: 0, startedAt: iso(0) });
  });

  it("gives an unready canary no traffic and starts no step clock", () => {
    const d = decideRollout(
      input({
        status: atStep(0, 0, { stepStartedAt: undefined }),
        desired: v2,
        canaryReady: false,
      }),
    );
    expect([d.weight, d.mirrorPercent, d.analyze]).toEqual([0, 0, false]);
    expect(d.status.stepStartedAt).toBeUndefined();
    expect(d.status.message).toContain("waiting for the canary");
  });

  it("mirrors during the mirror step and waits for its duration", () => {
    const d = decideRollout(
      input({ status: atStep(0, 0), desired: v2, verdict: pass(5), now: at(15) }),
    );
    expect([d.weight, d.mirrorPercent, d.analyze]).toEqual([0, 100, true]);
    expect(d.status.stepIndex).toBe(0);
    expect(reasons(d)).toEqual(["AnalysisPassed"]);
  });

  it("advances when the duration is over and a pass was measured inside the step", () => {
    const d = decideRollout(
      input({ status: atStep(0, 0), desired: v2, verdict: pass(20), now: at(31) }),
    );
    expect(d.status.stepIndex).toBe(1);
    expect(d.status.stepStartedAt).toBe(iso(31));
    expect([d.weight, d.mirrorPercent]).toEqual([10, 0]);
    expect(reasons(d)).toContain("StepAdvanced");
  });

  it("does not advance on a pass whose window began before the step", () => {
    const d = decideRollout(
      input({ status: atStep(1, 30), desired: v2, verdict: pass(25), now: at(35) }),
    );
    expect(d.status.stepIndex).toBe(1);
  });

  it("holds on no data, whatever the time, and says so", () => {
    const d = decideRollout(
      input({ status: atStep(0, 0), desired: v2, verdict: noData(100), now: at(500) }),
    );
    expect(d.status.stepIndex).toBe(0);
    expect(d.status.phase).toBe("Inconclusive");
    expect(d.status.analysis?.inconclusiveCount).toBe(1);
    expect(d.status.message).toBe(
      "holding at step 1/5 (mirror 100% for 30 s): successRate: served 3 requests",
    );
    expect(reasons(d)).toEqual(["AnalysisInconclusive"]);
  });

  it("never promotes on no data, even at the last step", () => {
    const last = atStep(4, 0);
    const d = decideRollout(
      input({ status: last, desired: v2, verdict: noData(50), now: at(9999) }),
    );
    expect(d.canary?.digest).toBe(v2.digest);
    expect(d.status.phase).toBe("Inconclusive");
  });

  it("rolls back at once on a failed analysis: weight 0, canary gone, remembered, in history", () => {
    const d = decideRollout(
      input({ status: atStep(3, 40), desired: v2, verdict: fail(45), now: at(50) }),
    );
    expect([d.weight, d.mirrorPercent]).toEqual([0, 0]);
    expect(d.canary).toBeUndefined();
    expect(d.stable?.digest).toBe(v1.digest);
    expect(d.status.phase).toBe("RolledBack");
    expect(d.status.rolledBackDigests).toEqual([v2.digest]);
    expect(d.status.history?.[0]).toMatchObject({
      canary: v2.digest,
      stable: v1.digest,
      outcome: "RolledBack",
      reason: "RolledBack",
      endedAt: iso(50),
    });
    expect(d.status.message).toContain("canary success rate 0.5");
    expect(reasons(d)).toEqual(["AnalysisFailed", "RolledBack"]);
    // The analysis that failed stays in status, not the one before it.
    expect(d.status.analysis).toMatchObject({ verdict: "Fail", at: iso(50) });
  });

  it("does not try a rolled-back digest again until retried", () => {
    const after: RolloutStatus = {
      stable: v1,
      phase: "RolledBack",
      rolledBackDigests: [v2.digest],
      history: [
        {
          canary: v2.digest,
          outcome: "RolledBack",
          reason: "RolledBack",
          message: "p99 400 ms",
          endedAt: iso(9),
        },
      ],
    };
    const held = decideRollout(input({ status: after, desired: v2 }));
    expect(held.canary).toBeUndefined();
    expect(held.status.message).toBe("p99 400 ms; `kubectl churn retry` tries it again");
    const retried = decideRollout(
      input({ status: after, desired: v2, action: { kind: "retry", id: "r1" } }),
    );
    expect(reasons(retried)).toEqual(["Retried", "RolloutStarted"]);
    expect(retried.canary?.digest).toBe(v2.digest);
    expect(retried.status.rolledBackDigests).toEqual([]);
    expect(retried.status.handledActions).toEqual(["r1"]);
  });

  it("carries out an action once, however many passes see its annotation", () => {
    const s = { ...atStep(4, 0), handledActions: ["p1"] };
    const d = decideRollout(
      input({ status: s, desired: v2, action: { kind: "promote", id: "p1" } }),
    );
    expect(d.canary?.digest).toBe(v2.digest);
    expect(d.status.phase).toBe("Paused");
  });

  it("waits at pause {} for a promotion by hand, then promotes", () => {
    const s = { ...atStep(4, 0), analysis: { at: iso(1), verdict: "Pass" as const, metrics: [] } };
    const waiting = decideRollout(
      input({ status: s, desired: v2, verdict: pass(500), now: at(600) }),
    );
    expect(waiting.status.phase).toBe("Paused");
    expect(waiting.weight).toBe(50);
    const promoted = decideRollout(
      input({ status: s, desired: v2, now: at(601), action: { kind: "promote", id: "p2" } }),
    );
    expect(promoted.status.phase).toBe("Promoted");
    expect(promoted.stable?.digest).toBe(v2.digest);
    expect(promoted.canary).toBeUndefined();
    expect(reasons(promoted)).toEqual(["Promoted"]);
  });

  it("promotes after the last timed step passes", () => {
    const timed = { rollout: { steps: [{ setWeight: 20 }, { pause: { durationSeconds: 10 } }] } };
    const s = atStep(1, 100);
    const d = decideRollout(
      input({ spec: timed, status: s, desired: v2, verdict: pass(105), now: at(111) }),
    );
    expect(d.status.phase).toBe("Promoted");
    expect(d.stable).toEqual(v2);
    expect(d.status.history?.[0]?.outcome).toBe("Promoted");
  });

  it("aborts by hand: back to stable, not retried by itself", () => {
    const d = decideRollout(
      input({ status: atStep(3, 10), desired: v2, action: { kind: "abort", id: "a1" } }),
    );
    expect(d.status.phase).toBe("Aborted");
    expect(d.canary).toBeUndefined();
    expect(d.status.rolledBackDigests).toContain(v2.digest);
    expect(reasons(d)).toEqual(["Aborted"]);
  });

  it("with onNoData: rollback, gives up after three inconclusive analyses", () => {
    const rb = { rollout: { steps, analysis: { onNoData: "rollback" as const } } };
    const s = atStep(1, 0, {
      analysis: { at: iso(20), verdict: "Inconclusive", metrics: [], inconclusiveCount: 2 },
    });
    const d = decideRollout(
      input({ spec: rb, status: s, desired: v2, verdict: noData(20), now: at(30) }),
    );
    expect(d.status.phase).toBe("RolledBack");
    expect(reasons(d)).toEqual(["AnalysisInconclusive", "RolledBack"]);
  });

  it("strategy direct replaces the stable version at once", () => {
    const d = decideRollout(
      input({ spec: { strategy: "direct" }, status: stableOnly, desired: v2 }),
    );
    expect(d.stable?.digest).toBe(v2.digest);
    expect(d.canary).toBeUndefined();
    expect(reasons(d)).toEqual(["NewVersionSelected"]);
  });

  it("restarts from step one when a newer version supersedes the canary", () => {
    const d = decideRollout(input({ status: atStep(3, 10), desired: v3, now: at(40) }));
    expect(reasons(d)).toEqual(["Superseded", "RolloutStarted"]);
    expect(d.canary?.digest).toBe(v3.digest);
    expect(d.status.stepIndex).toBe(0);
    expect(d.status.rolledBackDigests ?? []).not.toContain(v2.digest);
    expect(d.status.history?.[0]).toMatchObject({ canary: v2.digest, outcome: "Aborted" });
  });

  it("resumes where the status says after a restart: same step, same weight", () => {
    const d = decideRollout(input({ status: atStep(3, 10), desired: v2, now: at(12) }));
    expect(d.status.stepIndex).toBe(3);
    expect(d.status.stepStartedAt).toBe(iso(10));
    expect(d.weight).toBe(50);
    expect(d.events).toEqual([]);
  });

  it("keeps a promote until the canary is ready, and says so when an action cannot apply", () => {
    const s = atStep(4, 0);
    const early = decideRollout(
      input({ status: s, desired: v2, canaryReady: false, action: { kind: "promote", id: "p9" } }),
    );
    expect(early.status.handledActions ?? []).not.toContain("p9");
    const later = decideRollout(
      input({ status: early.status, desired: v2, action: { kind: "promote", id: "p9" } }),
    );
    expect(later.status.phase).toBe("Promoted");
    const idleAbort = decideRollout(
      input({ status: stableOnly, desired: v1, action: { kind: "abort", id: "a9" } }),
    );
    expect(idleAbort.status.handledActions).toEqual(["a9"]);
    expect(idleAbort.events).toEqual([
      {
        type: "Warning",
        reason: "ActionIgnored",
        message: "abort ignored: no rollout in progress",
      },
    ]);
    const busyRetry = decideRollout(
      input({ status: atStep(1, 0), desired: v2, action: { kind: "retry", id: "r9" } }),
    );
    expect(reasons(busyRetry)).toEqual(["ActionIgnored"]);
  });

  it("applies the default steps when the spec has none", () => {
    const d = decideRollout(input({ spec: {}, status: atStep(0, 0), desired: v2, now: at(1) }));
    expect(d.mirrorPercent).toBe(100);
    expect(d.status.desiredWeight).toBe(0);
  });
});
