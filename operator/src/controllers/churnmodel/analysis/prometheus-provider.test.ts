import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../../../../cluster/testing/wait-for.js";
import {
  freePort,
  LocalPrometheus,
} from "../../../../../test/integration/operator/support/local-prometheus.js";
import { BuiltinProvider } from "./builtin-provider.js";
import type {
  HistogramWindow,
  Measurements,
  MeasureRequest,
  VariantWindow,
} from "./measurements.js";
import { fillPlaceholders, PrometheusProvider } from "./prometheus-provider.js";
import { RuntimePod } from "./test-support/runtime-pod.js";

describe("fillPlaceholders", () => {
  const values = {
    namespace: "shop",
    model: "churn",
    variant: "canary",
    pod: "churn\\.v2-bbb-.*",
    interval: "10s",
  };

  it("fills every placeholder, escaping values for a double-quoted PromQL string", () => {
    expect(
      fillPlaceholders(
        'sum(rate(x{namespace="{{namespace}}", app="{{ model }}", v="{{variant}}", pod=~"{{pod}}"}[{{interval}}]))',
        values,
      ),
    ).toBe(
      'sum(rate(x{namespace="shop", app="churn", v="canary", pod=~"churn\\\\.v2-bbb-.*"}[10s]))',
    );
  });

  it("refuses a placeholder it does not know, listing the known ones", () => {
    expect(() => fillPlaceholders('x{ns="{{ns}}"}', values)).toThrow(
      "unknown placeholder {{ns}} (known: {{namespace}}, {{model}}, {{variant}}, {{pod}}, {{interval}})",
    );
  });
});

describe("PrometheusProvider without a Prometheus", () => {
  it("is offline and throws when nothing listens at the address", async () => {
    const port = await freePort();
    const provider = new PrometheusProvider(`http://127.0.0.1:${port}`);

    expect(await provider.isOnline()).toBe(false);
    await expect(provider.measure(request(new Date(), 10))).rejects.toThrow(
      new RegExp(`^prometheus at http://127\\.0\\.0\\.1:${port} is unreachable: .*ECONNREFUSED`),
    );
  });
});

// A real Prometheus, built from the Go module proxy like promtool, scraping real HTTP servers
// that serve prom-client registries, labelled as kubernetes_sd relabelling labels pod targets.
// Skipped only when Go is missing: a cold build takes minutes and logs its progress.
const goAvailable = spawnSync("go", ["version"]).status === 0;

describe.skipIf(!goAvailable)("PrometheusProvider against a real Prometheus", () => {
  const SCORING = ["/v1/score", "/v2/models/churn/infer"];
  const CODES = [200, 400, 500, 503];
  let prometheus: LocalPrometheus;
  let provider: PrometheusProvider;
  const pods: Record<string, RuntimePod> = {};
  const builtin = new BuiltinProvider();
  let builtinWindow: Measurements | undefined;

  beforeAll(async () => {
    const names = [
      ["shop", "churn-aaa-1"],
      ["shop", "churn-aaa-2"],
      ["shop", "churn-bbb-1"],
      ["shop", "churn-router-1"],
      // Decoys: the stable pattern's name in another namespace, a name the pattern must
      // not match (churn-aaa-.* is anchored), another model's router.
      ["other", "churn-aaa-1"],
      ["shop", "churn-aaaa-1"],
      ["shop", "churnx-router-1"],
    ] as const;
    const targets = [];
    for (const [namespace, name] of names) {
      const pod = await RuntimePod.start(name);
      pod.zero(SCORING.concat("/healthz"), CODES, ["/v1/score"]);
      pods[`${namespace}/${name}`] = pod;
      targets.push({ targets: [`127.0.0.1:${pod.port}`], labels: { namespace, pod: name } });
    }
    prometheus = await LocalPrometheus.withConfig({
      global: { scrape_interval: "1s", scrape_timeout: "1s" },
      scrape_configs: [{ job_name: "pods", static_configs: targets }],
    });
    provider = new PrometheusProvider(prometheus.url);
  }, 1_800_000);

  afterAll(async () => {
    await prometheus?.dispose();
    await Promise.all(Object.values(pods).map((p) => p.stop()));
  });

  it("measures the same traffic as the builtin provider, up to increase()'s extrapolation", async () => {
    const pod = (key: string) => pods[key] as RuntimePod;
    const variants = {
      stable: [pod("shop/churn-aaa-1"), pod("shop/churn-aaa-2")],
      canary: [pod("shop/churn-bbb-1")],
      router: [pod("shop/churn-router-1")],
    };
    // Every series' first point is its zero: increase() counts from there.
    await waitFor("every target scraped before the traffic", async () => {
      const up = await prometheus.value('count(up{job="pods"} == 1)');
      return up === Object.keys(pods).length;
    });
    expect(await builtin.measure(builtinRequest(new Date(), variants))).toBeUndefined();

    pod("shop/churn-aaa-1")
      .serve(300, "/v1/score", 200, 0.004, 0.12)
      .serve(6, "/v1/score", 500, 0.0003)
      .serve(200, "/healthz", 200, 0.0001);
    pod("shop/churn-aaa-2")
      .serve(150, "/v2/models/churn/infer", 200, 0.03, 0.33)
      .serve(40, "/v1/score", 400, 0.001);
    pod("shop/churn-bbb-1")
      .serve(120, "/v1/score", 200, 0.2, 0.81)
      .serve(30, "/v1/score", 503, 0.0004);
    pod("shop/churn-router-1").mirror(90, 12);
    pod("other/churn-aaa-1").serve(5000, "/v1/score", 500, 0.6, 0.99);
    pod("shop/churn-aaaa-1").serve(4000, "/v1/score", 500, 0.6, 0.99);
    pod("shop/churnx-router-1").mirror(7000, 7000);
    const trafficDone = Date.now() / 1000;

    // Every target scraped after the traffic, and enough points per series that increase()'s
    // extrapolation to the window's end stays a small, known share of the window.
    await waitFor("every target scraped after the traffic", async () => {
      const oldest = await prometheus.value('min(timestamp(up{job="pods"}))');
      return oldest !== undefined && oldest > trafficDone;
    });
    await waitFor("12 scrapes of every target", async () => {
      const fewest = await prometheus.value('min(count_over_time(up{job="pods"}[1h]))');
      return fewest !== undefined && fewest >= 12;
    });
    const now = new Date();
    builtinWindow = await builtin.measure(builtinRequest(now, variants));
    const interval = Math.ceil((now.getTime() - prometheus.startedAt) / 1000) + 5;

    const measured = await provider.measure(request(now, interval));

    expect(builtinWindow).toMatchObject({
      stable: { requests: 300 + 6 + 150 + 40, errors: 6 },
      canary: { requests: 150, errors: 30 },
      mirror: { compared: 90, decisionFlips: 12 },
    });
    expect(measured?.start).toEqual(new Date(now.getTime() - interval * 1000));
    expect(measured?.end).toEqual(now);
    await expectExtrapolationOf(builtinWindow as Measurements, measured, now, interval);
  });

  it("returns nothing where Prometheus has no series of either variant", async () => {
    const empty = { ...request(new Date(), 30), namespace: "nowhere" };

    expect(await provider.measure(empty)).toBeUndefined();
  });

  it("throws when Prometheus rejects one of its queries", async () => {
    const broken = request(new Date(), 30);
    broken.podPattern = { ...broken.podPattern, canary: "churn-bbb-(" };

    await expect(provider.measure(broken)).rejects.toThrow(
      /prometheus rejected .*HTTP 400.*bad_data/,
    );
  });

  it("evaluates custom queries for the canary, one number each, Prometheus's refusal as an error", async () => {
    const req = request(new Date(), 30);
    req.custom = [
      {
        name: "canary-errors",
        query:
          'sum(increase(http_requests_total{namespace="{{namespace}}", pod=~"{{pod}}", code=~"5.."}[{{interval}}]))',
      },
      {
        name: "scalar",
        query: 'scalar(count(up{namespace="{{namespace}}", pod=~"{{model}}-.*"}))',
      },
      {
        name: "variant",
        query: 'count(label_replace(vector(1), "v", "{{variant}}", "", "") == 1)',
      },
      { name: "many", query: 'up{namespace="{{namespace}}"}' },
      { name: "none", query: 'up{namespace="{{namespace}}", pod="nobody"}' },
      { name: "nan", query: "vector(0) / 0" },
      { name: "syntax", query: "sum(" },
      { name: "range", query: "up[1m]" },
      { name: "placeholder", query: 'up{ns="{{ns}}"}' },
    ];

    const m = await provider.measure(req);

    expect(m?.custom.map((c) => c.name)).toEqual(req.custom.map((c) => c.name));
    const byName = Object.fromEntries((m?.custom ?? []).map((c) => [c.name, c]));
    expect(byName["canary-errors"]?.value).toBeCloseTo(m?.canary?.errors ?? -1, 9);
    expect(byName["canary-errors"]?.value).toBeGreaterThan(0);
    expect(byName.scalar).toEqual({ name: "scalar", value: 5 });
    expect(byName.variant).toEqual({ name: "variant", value: 1 });
    expect(byName.many?.error).toMatch(/returned 6 series, expected one/);
    expect(byName.none?.error).toBe("the query returned no data");
    expect(byName.nan?.error).toMatch(/NaN/);
    expect(byName.syntax?.error).toMatch(/prometheus rejected sum\( \(HTTP 400\): bad_data: /);
    expect(byName.range?.error).toMatch(/returned a matrix/);
    expect(byName.placeholder?.error).toMatch(/unknown placeholder \{\{ns\}\}/);
  });

  it("throws and is offline while Prometheus is stopped, and measures again once it is back", async () => {
    expect(await provider.isOnline()).toBe(true);

    await prometheus.stop();

    expect(await provider.isOnline()).toBe(false);
    await expect(provider.measure(request(new Date(), 30))).rejects.toThrow(/is unreachable/);

    await prometheus.start();
    await waitFor("prometheus ready again", () => provider.isOnline(), { timeoutMs: 60_000 });
    await waitFor("a scrape after the restart", async () => {
      const newest = await prometheus.value('max(timestamp(up{job="pods"}))');
      return newest !== undefined && newest * 1000 > prometheus.startedAt;
    });
    const now = new Date();
    const interval = Math.ceil((now.getTime() - prometheus.firstStartedAt) / 1000) + 5;
    const measured = await provider.measure(request(now, interval));

    // The samples from before the stop came back from the write-ahead log.
    expect(builtinWindow).toBeDefined();
    await expectExtrapolationOf(builtinWindow as Measurements, measured, now, interval);
  });

  /** Every number of `measured` is `exact` stretched by at most increase()'s extrapolation. */
  async function expectExtrapolationOf(
    exact: Measurements,
    measured: Measurements | undefined,
    now: Date,
    interval: number,
  ) {
    expect(measured).toBeDefined();
    // Every series starts at zero, so increase() extrapolates only to the window's end: by
    // less than 1.1 average scrape intervals, over a sampled span of (points - 1) intervals.
    const points = await prometheus.value(
      `min(count_over_time(up{job="pods"}[${interval}s]))`,
      now,
    );
    const stretch = 1 + 1.1 / ((points ?? 0) - 1);
    const close = (what: string, got: number | undefined, want: number) => {
      expect(got, what).toBeDefined();
      expect(got, what).toBeGreaterThanOrEqual(want - 1e-9);
      expect(got, what).toBeLessThanOrEqual(want * stretch + 1e-9);
    };
    const closeHistograms = (what: string, got?: HistogramWindow, want?: HistogramWindow) => {
      expect(got?.bounds, what).toEqual(want?.bounds);
      want?.cumulative.forEach((c, i) => {
        close(`${what} le=${want.bounds[i]}`, got?.cumulative[i], c);
      });
    };
    const closeVariants = (what: string, got?: VariantWindow, want?: VariantWindow) => {
      close(`${what} requests`, got?.requests, want?.requests ?? Number.NaN);
      close(`${what} errors`, got?.errors, want?.errors ?? Number.NaN);
      closeHistograms(`${what} latency`, got?.latency, want?.latency);
      closeHistograms(`${what} probability`, got?.probability, want?.probability);
    };
    closeVariants("stable", measured?.stable, exact.stable);
    closeVariants("canary", measured?.canary, exact.canary);
    close("mirror compared", measured?.mirror?.compared, exact.mirror?.compared ?? Number.NaN);
    close(
      "mirror flips",
      measured?.mirror?.decisionFlips,
      exact.mirror?.decisionFlips ?? Number.NaN,
    );
    expect(measured?.custom).toEqual([]);
  }

  function builtinRequest(
    now: Date,
    v: { stable: RuntimePod[]; canary: RuntimePod[]; router: RuntimePod[] },
  ): MeasureRequest {
    return {
      ...request(now, 10),
      pods: { stable: v.stable.map((p) => p.ref), canary: v.canary.map((p) => p.ref) },
      routerPods: v.router.map((p) => p.ref),
    };
  }
});

function request(now: Date, intervalSeconds: number): MeasureRequest {
  return {
    namespace: "shop",
    model: "churn",
    pods: { stable: [], canary: [] },
    routerPods: [],
    podPattern: { stable: "churn-aaa-.*", canary: "churn-bbb-.*" },
    custom: [],
    intervalSeconds,
    now,
  };
}
