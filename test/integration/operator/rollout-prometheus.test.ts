import type { V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { noProcessNode, testCluster, waitFor } from "../../../cluster/testing/index.js";
import type { ChurnModel } from "../../../operator/src/api/churn-model.js";
import type { RolloutSpec } from "../../../operator/src/api/rollout.js";
import { escapeRegex } from "../../../operator/src/controllers/churnmodel/analysis/analysis-metric-names.js";
import type { KubeObject } from "../../../operator/src/kube/kube-object.js";
import { Resources } from "../../../operator/src/kube/resources.js";
import { LocalPrometheus } from "./support/local-prometheus.js";
import type { OperatorEnv } from "./support/operator-env.js";
import { rolloutSuite, waitForRollout } from "./support/rollout-env.js";
import type { SteadyLoad } from "./support/steady-load.js";

// provider: prometheus — analysis reads a real Prometheus (the pinned server built from the Go
// module proxy) that finds the serving pods through Kubernetes service discovery on the local
// apiserver, not the operator's own scrapes. Its numbers promote a healthy canary and roll back
// one that errors; while it is down, analysis is Inconclusive and the rollout holds where it is,
// and it resumes once Prometheus is back. Replica-share routing, so the Service spreads a load
// that opens one connection per request.
describe.skipIf(noProcessNode)("canary analysis by a real Prometheus", () => {
  let prometheus: LocalPrometheus;
  let load: SteadyLoad | undefined;
  const rollout = (): RolloutSpec => ({
    trafficRouting: "replicas",
    steps: [{ setWeight: 50 }, { pause: { durationSeconds: 10 } }],
    analysis: {
      intervalSeconds: 5,
      minSamples: 20,
      provider: { prometheus: { address: prometheus.url } },
    },
  });
  const bank = rolloutSuite("prom", {
    rollout,
    operatorArgs: ["--allow-test-faults", "true"],
    alongside: async (env) => {
      prometheus = await LocalPrometheus.start({
        kubeconfig: testCluster().kubeconfig,
        namespaces: [env.ns],
      });
    },
    timeoutMs: 900_000,
  });
  const digest = (v: string) => bank.digest(v);
  const podsOf = (v: string) => `bank-${digest(v).slice(0, 10)}-.*`;

  beforeAll(async () => {
    const env = bank.env;
    // Discovered through the apiserver and scraped: the stable pod, and nothing but the
    // operator's serving pods on their serving port (the finished trainer pods are not).
    const targets = await prometheus.waitForTargetsUp(env.ns, () => servingPods(env));
    const ours = targets.filter((t) => t.labels.namespace === env.ns);
    for (const t of ours) {
      expect(t.labels.pod).toMatch(/^bank-/);
      expect(t.scrapeUrl).toMatch(/:8080\/metrics$/);
    }
  }, 300_000);

  afterAll(async () => {
    await load?.stop();
    await prometheus?.dispose();
  });

  it("holds while Prometheus is down, saying so, and promotes once it is back", async () => {
    load = bank.serviceLoad("v1", 500, 40).start();
    await bank.roll("v2", rollout());
    // A pass read from Prometheus: both variants' requests, through the discovered targets.
    const passed = await bank.until(
      "a passing analysis of the v2 canary",
      (m) =>
        m.status?.rollout?.canary?.digest === digest("v2") &&
        m.status.rollout.analysis?.verdict === "Pass",
    );
    expect(passed.status?.rollout?.analysis?.metrics).toContainEqual(
      expect.objectContaining({ name: "successRate", verdict: "Pass", value: 1 }),
    );

    await prometheus.stop();
    const unavailable = new RegExp(
      `prometheus metrics unavailable: prometheus at ${escapeRegex(prometheus.url)}`,
    );
    const held = await bank.until("Inconclusive: Prometheus down", (m) =>
      (m.status?.rollout?.analysis?.metrics ?? []).some(
        (x) => x.name === "provider" && unavailable.test(x.message ?? ""),
      ),
    );
    const where = snapshot(held);
    expect(where).toMatchObject({
      phase: "Inconclusive",
      canary: digest("v2"),
      stable: digest("v1"),
      effectiveWeight: 50,
    });
    expect(held.status?.rollout?.analysis?.verdict).toBe("Inconclusive");
    await waitForEvent(
      bank.env,
      "AnalysisInconclusive",
      new RegExp(`^provider: ${unavailable.source}`),
    );

    // Three more analyses with Prometheus still down: every look at the rollout in between
    // finds it Inconclusive, at the same step and weight, v2 neither advanced nor promoted.
    const seen = await watchAnalyses(bank.env, "bank", where.at, 3);
    for (const s of seen) expect(s).toEqual({ ...where, at: s.at });

    await prometheus.start();
    const done = await bank.until(
      "v2 promoted after Prometheus came back",
      (m) => m.status?.rollout?.phase === "Promoted",
    );
    await load.stop();
    expect(done.status?.rollout?.stable?.digest).toBe(digest("v2"));
    expect(done.status?.rollout?.history?.[0]).toMatchObject({
      canary: digest("v2"),
      outcome: "Promoted",
    });
    await waitForEvent(bank.env, "Promoted", /promoted after 2 steps$/);
    // The load is here to give analysis something to measure; zero failed requests over a
    // promotion is the replica-share suite's proof, not this one's.
    expect(load.stats.ok).toBeGreaterThan(100);
  });

  it("rolls back a canary that errors on Prometheus's numbers, naming the success rate", async () => {
    load = bank.serviceLoad("v2", 500, 40).start();
    try {
      await bank.roll("v1", rollout(), { "churn.mlops.dev/test-fault": "error-rate=1" });
      const rolled = await bank.until(
        "rolled back",
        (m) => m.status?.rollout?.phase === "RolledBack",
      );
      expect(rolled.status?.rollout?.stable?.digest).toBe(digest("v2"));
      // The next pass words status.rollout.message as "rolled back; retry tries it again":
      // why lives in the history entry and the events.
      expect(rolled.status?.rollout?.history?.[0]).toMatchObject({
        canary: digest("v1"),
        outcome: "RolledBack",
        message: expect.stringMatching(/successRate: canary success rate 0 \(/),
      });
      expect(rolled.status?.rollout?.rolledBackDigests).toContain(digest("v1"));
    } finally {
      await load.stop();
    }
    // What the verdict read: Prometheus holds the canary's server errors under its pods.
    const errors = await prometheus.query(
      `sum(increase(http_requests_total{namespace="${bank.env.ns}", pod=~"${podsOf("v1")}", code=~"5.."}[5m]))`,
    );
    expect(errors[0]?.value ?? 0).toBeGreaterThan(0);
    await waitForEvent(bank.env, "AnalysisFailed", /^successRate: canary success rate 0 \(/);
    await waitForEvent(
      bank.env,
      "RolledBack",
      /^rolled back .*successRate: canary success rate 0 \(/,
    );
    const m = await bank.current();
    expect(m.status?.rollout?.effectiveWeight).toBe(0);
    expect(bank.op.lines.filter((l) => l.msg === "reconcile failed")).toEqual([]);
  });
});

/** What must not move while analysis cannot measure. */
function snapshot(m: ChurnModel) {
  const r = m.status?.rollout;
  return {
    phase: r?.phase,
    stepIndex: r?.stepIndex,
    stepStartedAt: r?.stepStartedAt,
    effectiveWeight: r?.effectiveWeight,
    canary: r?.canary?.digest,
    stable: r?.stable?.digest,
    at: r?.analysis?.at ?? "",
  };
}

/**
 * Watches a ChurnModel until `count` analyses after the one made `at` have been recorded
 * (status.rollout.analysis.at moving on); returns every snapshot it took on the way.
 */
async function watchAnalyses(
  env: OperatorEnv,
  name: string,
  at: string,
  count: number,
): Promise<ReturnType<typeof snapshot>[]> {
  const seen: ReturnType<typeof snapshot>[] = [];
  const times = new Set([at]);
  await waitForRollout(
    env,
    name,
    `${count} more analyses`,
    (m) => {
      const s = snapshot(m);
      seen.push(s);
      times.add(s.at);
      return times.size > count;
    },
    count * 30_000,
  );
  return seen;
}

/** Waits for an Event on the ChurnModel "bank" with this reason and a matching message. */
function waitForEvent(env: OperatorEnv, reason: string, message: RegExp): Promise<string> {
  const messages = async () => {
    const list = await env.client.list<KubeObject & { message?: string }>(
      Resources.events,
      env.ns,
      { fieldSelector: `involvedObject.name=bank,reason=${reason}` },
    );
    return list.items.map((e) => e.message ?? "");
  };
  return waitFor(
    `a ${reason} event matching ${message}`,
    async () => (await messages()).find((m) => message.test(m)),
    { timeoutMs: 30_000, describe: async () => JSON.stringify(await messages()) },
  );
}

/** Names of the Ready serving pods of the ChurnModel "bank". */
async function servingPods(env: OperatorEnv): Promise<string[]> {
  const pods = await env.client.list<V1Pod>(Resources.pods, env.ns, {
    labelSelector: "churn.mlops.dev/churn-model=bank",
  });
  return pods.items
    .filter((p) => !p.metadata?.deletionTimestamp)
    .filter((p) => p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"))
    .map((p) => p.metadata?.name ?? "");
}
