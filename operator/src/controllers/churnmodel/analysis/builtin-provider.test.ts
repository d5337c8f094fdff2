import { afterEach, describe, expect, it } from "vitest";
import { BuiltinProvider } from "./builtin-provider.js";
import type { MeasureRequest } from "./measurements.js";
import { RuntimePod } from "./test-support/runtime-pod.js";

// Real HTTP: every pod is a node:http server serving a prom-client registry on 127.0.0.1.

const started: RuntimePod[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.stop()));
});

async function pods(...names: string[]): Promise<RuntimePod[]> {
  const out = await Promise.all(names.map((n) => RuntimePod.start(n)));
  started.push(...out);
  return out;
}

function request(
  at: Date,
  groups: { stable: RuntimePod[]; canary: RuntimePod[]; router?: RuntimePod[] },
  custom: MeasureRequest["custom"] = [],
): MeasureRequest {
  return {
    namespace: "shop",
    model: "churn",
    pods: { stable: groups.stable.map((p) => p.ref), canary: groups.canary.map((p) => p.ref) },
    routerPods: (groups.router ?? []).map((p) => p.ref),
    podPattern: { stable: "churn-aaa-.*", canary: "churn-bbb-.*" },
    custom,
    intervalSeconds: 10,
    now: at,
  };
}

/** The runtime's latency buckets (seconds) and probability buckets (0.05 wide), as scraped. */
const LATENCY_BOUNDS = [
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  Infinity,
];
const PROBABILITY_BOUNDS = [
  ...Array.from({ length: 19 }, (_, i) => Number(((i + 1) * 0.05).toFixed(2))),
  Infinity,
];
const seconds = (s: number) => new Date(Date.UTC(2030, 0, 1, 0, 0, s));

describe("BuiltinProvider", () => {
  it("returns nothing on the first call, then each variant's traffic since the previous call", async () => {
    const [s1, s2, c1, r1] = await pods(
      "churn-aaa-1",
      "churn-aaa-2",
      "churn-bbb-1",
      "churn-router-1",
    );
    // Lifetime traffic before the window opens must not count.
    s1?.serve(500, "/v1/score", 200, 0.004, 0.1);
    c1?.serve(70, "/v1/score", 500, 0.004, 0.9);
    r1?.mirror(40, 30);
    const provider = new BuiltinProvider();
    const groups = { stable: [s1, s2], canary: [c1], router: [r1] } as {
      stable: RuntimePod[];
      canary: RuntimePod[];
      router: RuntimePod[];
    };

    expect(await provider.measure(request(seconds(0), groups))).toBeUndefined();

    s1?.serve(100, "/v1/score", 200, 0.004, 0.1) // scoring, fast
      .serve(3, "/v1/score", 503, 0.0002) // errors
      .serve(7, "/v1/score", 400, 0.0002) // client errors are requests, not errors
      .serve(50, "/healthz", 200, 0.0001) // probes and /metrics are not scoring
      .serve(5, "/metrics", 200, 0.0001);
    s2?.serve(40, "/v2/models/churn/infer", 200, 0.3, 0.3).serve(1, "/v1/explain", 500, 2);
    c1?.serve(20, "/v1/customers/:id/score", 200, 0.04, 0.7);
    r1?.mirror(10, 1, "/v1/score").mirror(5, 2, "/v2/models/churn/infer");

    const m = await provider.measure(
      request(seconds(10), groups, [{ name: "biz", query: "sum(x)" }]),
    );

    expect(m).toEqual({
      start: seconds(0),
      end: seconds(10),
      stable: {
        requests: 100 + 3 + 7 + 40 + 1,
        errors: 3 + 1,
        latency: {
          bounds: LATENCY_BOUNDS,
          cumulative: [10, 10, 10, 110, 110, 110, 110, 110, 110, 150, 150, 151],
        },
        probability: {
          bounds: PROBABILITY_BOUNDS,
          cumulative: [0, 100, 100, 100, 100, 140, ...Array<number>(14).fill(140)],
        },
      },
      canary: {
        requests: 20,
        errors: 0,
        latency: {
          bounds: LATENCY_BOUNDS,
          cumulative: [0, 0, 0, 0, 0, 0, 20, 20, 20, 20, 20, 20],
        },
        probability: {
          bounds: PROBABILITY_BOUNDS,
          cumulative: [...Array<number>(13).fill(0), ...Array<number>(7).fill(20)],
        },
      },
      mirror: { compared: 15, decisionFlips: 3 },
      custom: [{ name: "biz", error: "custom metrics need the prometheus provider" }],
    });
  });

  it("counts a restarted pod's new values instead of a negative difference", async () => {
    const [s1, s2, c1] = await pods("churn-aaa-1", "churn-aaa-2", "churn-bbb-1");
    const groups = { stable: [s1, s2], canary: [c1] } as {
      stable: RuntimePod[];
      canary: RuntimePod[];
    };
    s1?.serve(300, "/v1/score", 200, 0.004);
    s2?.serve(10, "/v1/score", 200, 0.004);
    const provider = new BuiltinProvider();
    await provider.measure(request(seconds(0), groups));

    // s1 restarts with fewer requests than before (counters went down); s2 restarts and
    // already served more than its old total (only its new start time tells).
    s1?.restart(seconds(3).getTime() / 1000).serve(4, "/v1/score", 500, 0.004);
    s2?.restart(seconds(4).getTime() / 1000).serve(25, "/v1/score", 200, 0.004);
    const m = await provider.measure(request(seconds(10), groups));

    expect(m?.stable).toMatchObject({ requests: 4 + 25, errors: 4 });
    expect(m?.stable?.latency?.cumulative.at(-1)).toBe(29);
  });

  it("forgets vanished pods and counts a new pod from zero only when it started in the window", async () => {
    const [s1, s2, c1] = await pods("churn-aaa-1", "churn-aaa-2", "churn-bbb-1");
    const provider = new BuiltinProvider();
    await provider.measure(request(seconds(0), { stable: [s1, s2], canary: [] } as never));

    const [fresh, old] = await Promise.all([
      RuntimePod.start("churn-bbb-2", seconds(5).getTime() / 1000),
      RuntimePod.start("churn-bbb-3", seconds(-600).getTime() / 1000),
    ]);
    started.push(fresh as RuntimePod, old as RuntimePod);
    s1?.serve(10, "/v1/score", 200, 0.004);
    s2?.serve(1000, "/v1/score", 200, 0.004); // s2 is gone by the next call
    c1?.serve(7, "/v1/score", 200, 0.004); // the canary's only pod is listed now, but old
    fresh?.serve(3, "/v1/score", 200, 0.004);
    old?.serve(90, "/v1/score", 200, 0.004);

    const m = await provider.measure(
      request(seconds(10), { stable: [s1], canary: [c1, fresh, old] } as never),
    );
    expect(m?.stable?.requests).toBe(10);
    // c1 started an hour ago and was never scraped: only its baseline; so was `old`.
    expect(m?.canary?.requests).toBe(3);

    c1?.serve(2, "/v1/score", 200, 0.004);
    old?.serve(1, "/v1/score", 200, 0.004);
    const next = await provider.measure(
      request(seconds(20), { stable: [s1], canary: [c1, fresh, old] } as never),
    );
    expect(next?.canary?.requests).toBe(3);
  });

  it("leaves a variant undefined while none of its pods has a window", async () => {
    const [s1, c1] = await pods("churn-aaa-1", "churn-bbb-1");
    const provider = new BuiltinProvider();
    await provider.measure(request(seconds(0), { stable: [s1], canary: [] } as never));
    c1?.serve(9, "/v1/score", 200, 0.004);

    const m = await provider.measure(request(seconds(10), { stable: [s1], canary: [c1] } as never));

    expect(m?.stable).toMatchObject({ requests: 0, errors: 0 });
    expect(m?.canary).toBeUndefined();
    expect(m?.mirror).toBeUndefined();
  });

  it("skips a pod that does not answer and counts its traffic when it answers again", async () => {
    const [s1, s2, c1] = await pods("churn-aaa-1", "churn-aaa-2", "churn-bbb-1");
    const groups = { stable: [s1, s2], canary: [c1] } as {
      stable: RuntimePod[];
      canary: RuntimePod[];
    };
    const provider = new BuiltinProvider({ scrapeTimeoutMs: 300 });
    await provider.measure(request(seconds(0), groups));

    s1?.serve(10, "/v1/score", 200, 0.004);
    s2?.serve(5, "/v1/score", 200, 0.004).answer("hang");
    const m = await provider.measure(request(seconds(10), groups));
    expect(m?.stable?.requests).toBe(10);

    s2?.answer("ok");
    s2?.serve(1, "/v1/score", 200, 0.004);
    const next = await provider.measure(request(seconds(20), groups));
    expect(next?.stable?.requests).toBe(6);
  });

  it("throws naming the pods when no pod of a variant answers, and remembers nothing then", async () => {
    const [s1, c1, c2, r1] = await pods(
      "churn-aaa-1",
      "churn-bbb-1",
      "churn-bbb-2",
      "churn-router-1",
    );
    const groups = { stable: [s1], canary: [c1, c2], router: [r1] } as {
      stable: RuntimePod[];
      canary: RuntimePod[];
      router: RuntimePod[];
    };
    const provider = new BuiltinProvider({ scrapeTimeoutMs: 300 });
    await provider.measure(request(seconds(0), groups));
    c1?.serve(4, "/v1/score", 200, 0.004);
    s1?.serve(8, "/v1/score", 200, 0.004);

    c1?.answer("error");
    c2?.answer("hang");
    const failed = provider.measure(request(seconds(10), groups));
    await expect(failed).rejects.toThrow(/no canary pod answered a metrics scrape/);
    await expect(failed).rejects.toThrow(
      new RegExp(
        `churn-bbb-1 \\(127\\.0\\.0\\.1:${c1?.port}: HTTP 500\\), churn-bbb-2 \\(.*timed out\\)`,
      ),
    );
    await expect(failed).rejects.not.toThrow(/stable/);

    await r1?.stop();
    started.splice(started.indexOf(r1 as RuntimePod), 1);
    c1?.answer("ok");
    c2?.answer("ok");
    await expect(provider.measure(request(seconds(20), groups))).rejects.toThrow(
      new RegExp(
        `^no router pod answered a metrics scrape: churn-router-1 \\(127\\.0\\.0\\.1:${r1?.port}: .+\\)$`,
      ),
    );

    // The window opens at the last call that measured, so nothing in between is lost.
    const m = await provider.measure(request(seconds(30), { ...groups, router: [] }));
    expect(m?.start).toEqual(seconds(0));
    expect(m?.canary?.requests).toBe(4);
    expect(m?.stable?.requests).toBe(8);
  });

  it("starts over after forget, per model", async () => {
    const [s1, c1] = await pods("churn-aaa-1", "churn-bbb-1");
    const provider = new BuiltinProvider();
    const groups = { stable: [s1], canary: [c1] } as { stable: RuntimePod[]; canary: RuntimePod[] };
    await provider.measure(request(seconds(0), groups));
    await provider.measure({ ...request(seconds(0), groups), model: "other" });

    provider.forget("shop", "churn");

    expect(await provider.measure(request(seconds(10), groups))).toBeUndefined();
    expect(
      await provider.measure({ ...request(seconds(10), groups), model: "other" }),
    ).toBeDefined();
    expect(await provider.isOnline()).toBe(true);
  });
});
