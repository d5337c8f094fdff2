import { Agent } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { noProcessNode, waitFor } from "../../../cluster/testing/index.js";
import type { RolloutSpec } from "../../../operator/src/api/rollout.js";
import { customers, readyPodIps, rolloutSuite } from "./support/rollout-env.js";
import { eventReasons } from "./support/status.js";
import { SteadyLoad, send } from "./support/steady-load.js";

// The proof with router traffic, on one ChurnModel through its rollouts: promotion
// under load with no failed request; a model that scores differently caught while only
// mirrored (no user ever answered by it); an erroring and a slow canary rolled back by the
// right metric; no traffic holds and traffic lets it proceed; exact weights, stickiness,
// abort and retry at the router.
describe.skipIf(noProcessNode)("canary rollouts through the router", () => {
  let routerUrl: string;
  let rows: Record<string, unknown>[];
  const timings: Record<string, number> = {};
  const analysis = { intervalSeconds: 5, minSamples: 30 };
  const stepsFast: RolloutSpec["steps"] = [
    { mirror: { percent: 100, durationSeconds: 10 } },
    { setWeight: 20 },
    { pause: { durationSeconds: 5 } },
    { setWeight: 50 },
    { pause: { durationSeconds: 5 } },
  ];
  const bank = rolloutSuite("router", {
    rollout: () => ({ analysis, steps: stepsFast }),
    operatorArgs: ["--allow-test-faults", "true"],
  });

  /** Applies `bank` with a source run, rollout (this suite's analysis by default) and annotations. */
  const roll = (run: string, rollout: RolloutSpec, annotations: Record<string, string> = {}) =>
    bank.roll(run, { analysis, ...rollout }, annotations);

  /** v1 as a canary at 20%, held there, with a test fault (the operator's --allow-test-faults). */
  const rollFaulty = (fault: string) =>
    roll(
      "v1",
      { steps: [{ setWeight: 20 }, { pause: {} }] },
      { "churn.mlops.dev/test-fault": fault },
    );

  /** Sum of a router metric over the router pods. */
  const routerMetric = async (name: string, labels: Record<string, string> = {}) => {
    let sum = 0;
    for (const ip of await readyPodIps(bank.env, "app.kubernetes.io/component=router")) {
      const text = await (await fetch(`http://${ip}:8080/metrics`)).text();
      for (const line of text.split("\n")) {
        if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
        if (!Object.entries(labels).every(([k, x]) => line.includes(`${k}="${x}"`))) continue;
        sum += Number(line.slice(line.lastIndexOf(" ") + 1));
      }
    }
    return sum;
  };

  beforeAll(async () => {
    rows = customers(bank.env, bank.digest("v1"), 2000);
    const [ip] = await waitFor(
      "a ready router pod",
      async () => {
        const ips = await readyPodIps(bank.env, "app.kubernetes.io/component=router");
        return ips.length ? ips : undefined;
      },
      { timeoutMs: 120_000 },
    );
    routerUrl = `http://${ip}:8080`;
  }, 600_000);

  afterAll(async () => {
    process.stdout.write(`[timings] ${JSON.stringify(timings)}\n`);
  });

  it("promotes through every step under steady load with zero failed requests", async () => {
    const load = new SteadyLoad(routerUrl, rows, 50).start();
    try {
      await roll("v2", { steps: stepsFast });
      const done = await bank.until("v2 promoted", (m) => m.status?.rollout?.phase === "Promoted");
      expect(done.status?.rollout?.stable?.digest).toBe(bank.digest("v2"));
    } finally {
      await load.stop();
    }
    expect(load.stats.failures).toEqual([]);
    expect(load.stats.byVariant.canary).toBeGreaterThan(0);
    const reasons = await eventReasons(bank.env.client, bank.env.ns, "bank");
    for (const r of ["RolloutStarted", "StepAdvanced", "AnalysisPassed", "Promoted"])
      expect(reasons).toContain(r);
  });

  it("catches a model that scores differently while it is only mirrored: no user answered by it", async () => {
    const load = new SteadyLoad(routerUrl, rows, 50).start();
    const canaryBefore = await routerMetric("churn_router_requests_total", { variant: "canary" });
    try {
      // The default steps: mirror first. The skewed model passed its training gates.
      await roll("skewed", {});
      const rolled = await bank.until(
        "skewed rolled back",
        (m) => m.status?.rollout?.phase === "RolledBack",
      );
      expect(rolled.status?.rollout?.message).toMatch(/(scoreDrift|mirrorDisagreement): /);
      expect(rolled.status?.rollout?.history?.[0]).toMatchObject({ canary: bank.digest("skewed") });
    } finally {
      await load.stop();
    }
    expect(load.stats.failures).toEqual([]);
    expect(load.stats.byVariant.canary ?? 0).toBe(0);
    expect(await routerMetric("churn_router_requests_total", { variant: "canary" })).toBe(
      canaryBefore,
    );
    expect(await routerMetric("churn_router_mirror_comparisons_total")).toBeGreaterThan(0);
  });

  it("rolls back a canary that errors, naming the value, within two intervals of the fault", async () => {
    const load = new SteadyLoad(routerUrl, rows, 50).start();
    try {
      await rollFaulty("error-rate=1");
      await waitFor(
        "the canary to answer (and fail)",
        () => (load.stats.byVariant.canary ?? 0) > 0,
        {
          timeoutMs: 120_000,
        },
      );
      const faultAt = Date.now();
      const rolled = await bank.until(
        "v1 rolled back",
        (m) =>
          m.status?.rollout?.phase === "RolledBack" &&
          m.status.rollout.history?.[0]?.canary === bank.digest("v1"),
      );
      timings.errorFaultToRollbackMs = Date.now() - faultAt;
      expect(rolled.status?.rollout?.message).toMatch(/successRate: canary success rate 0 /);
      expect(rolled.status?.rollout?.effectiveWeight).toBe(0);
    } finally {
      await load.stop();
    }
  });

  it("rolls back a slow canary by latency, after a retry", async () => {
    const load = new SteadyLoad(routerUrl, rows, 50).start();
    try {
      await rollFaulty("latency-ms=400");
      await bank.act("retry", "retry-slow");
      const rolled = await bank.until(
        "slow v1 rolled back",
        (m) =>
          m.status?.rollout?.phase === "RolledBack" &&
          (m.status.rollout.handledActions ?? []).includes("retry-slow"),
      );
      expect(rolled.status?.rollout?.message).toMatch(
        /latencyP99Ms: canary p99 \d+(\.\d+)? ms > 250 ms/,
      );
    } finally {
      await load.stop();
    }
    expect(await eventReasons(bank.env.client, bank.env.ns, "bank")).toContain("Retried");
  });

  it("holds without traffic, never promoting, and proceeds once traffic arrives", async () => {
    await roll("v1", { steps: [{ setWeight: 20 }, { pause: { durationSeconds: 5 } }] });
    await bank.act("retry", "retry-idle");
    const first = await bank.until(
      "v1 inconclusive with no traffic",
      (m) =>
        m.status?.rollout?.phase === "Inconclusive" &&
        m.status.rollout.canary?.digest === bank.digest("v1"),
    );
    const seen = first.status?.rollout?.analysis?.at ?? "";
    const held = await bank.until(
      "three more analyses without traffic",
      (m) =>
        (m.status?.rollout?.analysis?.inconclusiveCount ?? 0) >= 3 &&
        m.status?.rollout?.analysis?.at !== seen,
    );
    expect(held.status?.rollout).toMatchObject({ phase: "Inconclusive", stepIndex: 0 });
    expect(held.status?.rollout?.canary?.digest).toBe(bank.digest("v1"));
    const load = new SteadyLoad(routerUrl, rows, 50).start();
    try {
      const done = await bank.until(
        "v1 promoted once traffic arrives",
        (m) => m.status?.rollout?.phase === "Promoted",
      );
      expect(done.status?.rollout?.stable?.digest).toBe(bank.digest("v1"));
    } finally {
      await load.stop();
    }
    expect(load.stats.failures).toEqual([]);
  });

  it("splits exactly, keeps customers sticky, drops to 0 at once on abort and starts again on retry", async () => {
    // 10% of the warm-up load is 4 requests/s: 20 per 5 s interval, so minSamples 15 here.
    await roll("v2", {
      steps: [{ setWeight: 10 }, { pause: {} }],
      analysis: { intervalSeconds: 5, minSamples: 15 },
    });
    // Analysis needs a little traffic to pass step one before the pause.
    const warm = new SteadyLoad(routerUrl, rows, 40).start();
    try {
      await bank.until("paused at 10%", (m) => m.status?.rollout?.phase === "Paused");
    } finally {
      await warm.stop();
    }
    const agent = new Agent({ keepAlive: true, maxSockets: 32 });
    const variantOf = async (i: number) =>
      (
        await send(
          `${routerUrl}/v1/score`,
          { instances: [{ ...rows[i % rows.length], CustomerId: 30_000_000 + i }] },
          agent,
        )
      ).variant;
    const seen: (string | undefined)[] = [];
    for (let i = 0; i < 10_000; i += 50)
      seen.push(...(await Promise.all(Array.from({ length: 50 }, (_, j) => variantOf(i + j)))));
    const share = (100 * seen.filter((x) => x === "canary").length) / seen.length;
    timings.canarySharePercentAt10 = share;
    expect(Math.abs(share - 10)).toBeLessThanOrEqual(1);
    // The same customers again: every one answered by the same variant.
    for (let i = 0; i < 500; i++) expect(await variantOf(i)).toBe(seen[i]);

    const abortAt = Date.now();
    await bank.act("abort", "abort-1");
    const canaryIds = seen
      .map((x, i) => (x === "canary" ? i : -1))
      .filter((i) => i >= 0)
      .slice(0, 20);
    await waitFor("no canary answers after abort", async () => {
      const answers = await Promise.all(canaryIds.map(variantOf));
      return answers.every((x) => x === "stable");
    });
    timings.abortToWeightZeroMs = Date.now() - abortAt;
    // The router follows the traffic ConfigMap, applied before the pass writes status: wait for
    // the status of the same pass instead of reading it once.
    await bank.until("the abort in status", (m) => m.status?.rollout?.phase === "Aborted", 30_000);
    agent.destroy();

    await bank.act("retry", "retry-2");
    const again = await bank.until(
      "v2 rolling out again",
      (m) => m.status?.rollout?.canary?.digest === bank.digest("v2"),
    );
    expect(again.status?.rollout?.stepIndex).toBe(0);
    expect(await eventReasons(bank.env.client, bank.env.ns, "bank")).toEqual(
      expect.arrayContaining(["Aborted", "Retried", "RolloutStarted"]),
    );
    expect(bank.op.logged("reconcile failed", { controller: "churnmodel" })).toBe(false);
  });
});
