import { describe, expect, it } from "vitest";
import type { ChurnModel } from "../api/churn-model.js";
import type { RolloutStatus } from "../api/rollout.js";
import { visible } from "./palette.js";
import { formatValue, renderRolloutStatus } from "./render-status.js";

const now = new Date("2026-03-01T12:00:00Z");
const ago = (s: number) => new Date(now.getTime() - s * 1000).toISOString();
const v1 = { digest: `3f9a1c2b7d4e${"0".repeat(52)}`, uri: "pvc://m/3f", trainingRun: "v1" };
const v2 = { digest: `9b8c7d6e5f4a${"1".repeat(52)}`, uri: "pvc://m/9b", trainingRun: "v2" };

const model = (
  rollout: RolloutStatus | undefined,
  spec: Partial<ChurnModel["spec"]> = {},
): ChurnModel => ({
  apiVersion: "churn.mlops.dev/v1alpha1",
  kind: "ChurnModel",
  metadata: { name: "bank", namespace: "churn-demo" },
  spec: {
    source: { latestFrom: {} },
    replicas: 1,
    explanations: { enabled: true },
    rollout: {
      trafficRouting: "replicas",
      steps: [{ setWeight: 50 }, { pause: {} }, { setWeight: 80 }],
    },
    ...spec,
  },
  status: rollout && {
    phase: "Ready",
    replicas: 2,
    readyReplicas: 2,
    serving: { digest: v1.digest, uri: v1.uri, trainingRun: "v1" },
    rollout,
  },
});

const analysis: RolloutStatus["analysis"] = {
  at: ago(4),
  verdict: "Pass",
  score: 100,
  windowStart: ago(14),
  metrics: [
    {
      name: "successRate",
      verdict: "Pass",
      value: 0.99662,
      stable: 1,
      threshold: ">= 0.99",
      samples: 296,
      message: "canary success rate 0.9966",
    },
    {
      name: "latencyP99Ms",
      verdict: "Pass",
      value: 12.3456,
      stable: 11.2,
      threshold: "<= 250 ms and <= 1.5 x stable",
      samples: 296,
      message: "p99 12.3 ms",
    },
  ],
};

const paused: RolloutStatus = {
  phase: "Paused",
  stable: v1,
  canary: v2,
  stepIndex: 1,
  stepStartedAt: ago(63),
  startedAt: ago(130),
  desiredWeight: 50,
  effectiveWeight: 50,
  mirrorPercent: 0,
  analysis,
  message: "paused at step 2/3: `kubectl churn promote` to go on",
  history: [
    {
      canary: v1.digest,
      stable: "7".repeat(64),
      outcome: "Promoted",
      reason: "Promoted",
      startedAt: ago(4000),
      endedAt: ago(3700),
    },
    {
      canary: "8".repeat(64),
      stable: "7".repeat(64),
      outcome: "RolledBack",
      reason: "RolledBack",
      message: "rolled back: successRate",
      endedAt: ago(90_000),
    },
  ],
};

describe("renderRolloutStatus", () => {
  it("draws a paused rollout: versions, weights, the current step, analysis and history", () => {
    expect(renderRolloutStatus(model(paused), now)).toBe(
      [
        "Name:          bank",
        "Namespace:     churn-demo",
        "Status:        ॥ Paused",
        "Message:       paused at step 2/3: `kubectl churn promote` to go on",
        "Strategy:      canary, by replica share (no router)",
        "Serving:       Ready, 2/2 pods ready",
        "Stable:        3f9a1c2b7d4e (v1)",
        "Canary:        9b8c7d6e5f4a (v2)",
        "Step:          2/3",
        "Weight:        desired 50%, effective 50%, mirrored 0%",
        "Started:       2m10s ago",
        "",
        "Steps:",
        "  ✔ 1. canary weight 50%",
        "  ► 2. pause until promoted  started 63s ago; waits for `kubectl churn promote`",
        "  ○ 3. canary weight 80%",
        "",
        "Analysis:      ✔ Pass, score 100 (4s ago)",
        "  METRIC        VERDICT  CANARY  STABLE  THRESHOLD                      SAMPLES",
        "  successRate   ✔ Pass   0.9966  1       >= 0.99                        296",
        "  latencyP99Ms  ✔ Pass   12.35   11.2    <= 250 ms and <= 1.5 x stable  296",
        "",
        "Rollouts:",
        "  OUTCOME       CANARY        STABLE        REASON      ENDED",
        "  ✔ Promoted    3f9a1c2b7d4e  777777777777  Promoted    61m ago",
        "  ✖ RolledBack  888888888888  777777777777  RolledBack  25h ago",
        "",
      ].join("\n"),
    );
  });

  it("names each metric that did not pass, with its message, under the table", () => {
    const failing: RolloutStatus = {
      ...paused,
      phase: "Inconclusive",
      analysis: {
        at: ago(2),
        verdict: "Inconclusive",
        score: 50,
        metrics: [
          analysis.metrics[0] as NonNullable<RolloutStatus["analysis"]>["metrics"][number],
          {
            name: "scoreDrift",
            verdict: "Inconclusive",
            samples: 12,
            message: "scored rows: canary 12, stable 40 (needs 20 each)",
          },
        ],
      },
    };
    const text = renderRolloutStatus(model(failing), now);
    expect(text).toContain("Status:        ⚠ Inconclusive\n");
    expect(text).toContain(
      [
        "Analysis:      ⚠ Inconclusive, score 50 (2s ago)",
        "  METRIC       VERDICT         CANARY  STABLE  THRESHOLD  SAMPLES",
        "  successRate  ✔ Pass          0.9966  1       >= 0.99    296",
        "  scoreDrift   ⚠ Inconclusive  -       -       -          12",
        "  ⚠ scoreDrift: scored rows: canary 12, stable 40 (needs 20 each)",
      ].join("\n"),
    );
  });

  it.each([
    {
      step: { pause: { durationSeconds: 300 } },
      startedS: 63,
      note: "started 63s ago; 3m57s left",
    },
    {
      step: { pause: { durationSeconds: 30 } },
      startedS: 63,
      note: "started 63s ago; goes on after a passing analysis",
    },
    {
      step: { mirror: { percent: 20, durationSeconds: 120 } },
      startedS: 20,
      note: "started 20s ago; 100s left",
    },
    {
      step: { setWeight: 10 },
      startedS: 5,
      note: "started 5s ago; goes on after a passing analysis",
    },
    {
      step: { setWeight: 10 },
      startedS: undefined,
      note: "waiting for the canary's pods to be ready",
    },
  ])("marks the current step $step with: $note", ({ step, startedS, note }) => {
    const m = model(
      {
        ...paused,
        phase: "Progressing",
        stepIndex: 0,
        stepStartedAt: startedS === undefined ? undefined : ago(startedS),
      },
      { rollout: { steps: [step, { setWeight: 100 }] } },
    );
    const line = renderRolloutStatus(m, now)
      .split("\n")
      .find((l) => l.startsWith("  ► 1."));
    expect(line?.endsWith(`  ${note}`)).toBe(true);
  });

  it("after an abort: no canary, weight 0, every step pending, the digest held back", () => {
    const aborted: RolloutStatus = {
      phase: "Aborted",
      stable: v1,
      desiredWeight: 0,
      effectiveWeight: 0,
      mirrorPercent: 0,
      reason: "Aborted",
      message: "aborted by hand: 9b8c7d6e5f4a (v2)",
      rolledBackDigests: [v2.digest],
      history: [
        {
          canary: v2.digest,
          stable: v1.digest,
          outcome: "Aborted",
          reason: "Aborted",
          endedAt: ago(30),
        },
      ],
    };
    const text = renderRolloutStatus(model(aborted), now);
    expect(text).toContain(
      [
        "Status:        ✖ Aborted",
        "Message:       aborted by hand: 9b8c7d6e5f4a (v2)",
        "Strategy:      canary, by replica share (no router)",
        "Serving:       Ready, 2/2 pods ready",
        "Stable:        3f9a1c2b7d4e (v1)",
        "Canary:        -",
        "Weight:        canary 0%: all traffic on stable",
        "Held back:     9b8c7d6e5f4a (rolled back or aborted; `kubectl churn retry bank` tries again)",
        "",
        "Steps (of the next rollout):",
        "  ○ 1. canary weight 50%",
        "  ○ 2. pause until promoted",
        "  ○ 3. canary weight 80%",
        "",
        "Analysis:      none yet",
        "",
        "Rollouts:",
        "  OUTCOME    CANARY        STABLE        REASON   ENDED",
        "  ✖ Aborted  9b8c7d6e5f4a  3f9a1c2b7d4e  Aborted  30s ago",
      ].join("\n"),
    );
  });

  it("after a promotion every step is done", () => {
    const text = renderRolloutStatus(
      model({ phase: "Promoted", stable: v2, message: "9b8c7d6e5f4a (v2) promoted by hand" }),
      now,
    );
    expect(text).toContain("Stable:        9b8c7d6e5f4a (v2)\n");
    expect(text).toContain(
      "Steps:\n  ✔ 1. canary weight 50%\n  ✔ 2. pause until promoted\n  ✔ 3. canary weight 80%\n",
    );
  });

  it.each([
    {
      what: "no status yet",
      m: model(undefined),
      lines: ["Status:        - no version served yet", "Serving:       -", "Stable:        -"],
    },
    {
      what: "a first version, no rollout so far",
      m: model({ stable: v1 }),
      lines: ["Status:        ✔ Stable (no rollout yet)", "Stable:        3f9a1c2b7d4e (v1)"],
    },
    {
      what: "the default steps when spec.rollout has none",
      m: model({ stable: v1 }, { rollout: undefined }),
      lines: [
        "Strategy:      canary, through the router (exact weights)",
        "  ○ 1. mirror 100% for 30 s",
        "  ○ 2. canary weight 10%",
      ],
    },
    {
      what: "strategy: direct (no steps, no weight)",
      m: model({ stable: v1 }, { strategy: "direct" }),
      lines: ["Strategy:      direct (a new version replaces the old one; no canary)"],
      absent: ["Steps", "Weight:"],
    },
  ])("draws $what", ({ m, lines, absent = [] }) => {
    const text = renderRolloutStatus(m, now);
    for (const l of lines) expect(text.split("\n")).toContain(l);
    for (const a of absent) expect(text).not.toContain(a);
  });

  it("lists at most the last five rollouts and says how many there are", () => {
    const entry = { canary: v2.digest, outcome: "Promoted" as const, reason: "Promoted" };
    const history = Array.from({ length: 8 }, (_, i) => ({ ...entry, endedAt: ago(i * 60) }));
    const text = renderRolloutStatus(model({ stable: v2, phase: "Promoted", history }), now);
    expect(text).toContain("Rollouts (last 5 of 8):\n");
    expect(text.match(/^ {2}✔ Promoted/gm)).toHaveLength(5);
  });

  it("colours only when asked, and the coloured text reads the same", () => {
    const plain = renderRolloutStatus(model(paused), now);
    const coloured = renderRolloutStatus(model(paused), now, { color: true });
    expect(plain).not.toContain("\x1b[");
    expect(coloured).toContain("\x1b[36m॥ Paused\x1b[39m");
    expect(coloured).toContain("\x1b[32m✔ Pass\x1b[39m");
    expect(visible(coloured)).toBe(plain);
  });
});

describe("formatValue", () => {
  it.each([
    [undefined, "-"],
    [Number.NaN, "-"],
    [0, "0"],
    [296, "296"],
    [0.99662, "0.9966"],
    [12.3456, "12.35"],
    [0.000123456, "0.0001235"],
    [1234.56, "1234.6"],
    [-0.5, "-0.5"],
  ])("%s -> %s", (v, text) => expect(formatValue(v)).toBe(text));
});
