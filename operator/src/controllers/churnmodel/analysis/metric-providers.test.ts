import { afterEach, describe, expect, it } from "vitest";
import { BuiltinProvider } from "./builtin-provider.js";
import type { MeasureRequest } from "./measurements.js";
import { MetricProviders, providerKindOf } from "./metric-providers.js";
import { PrometheusProvider } from "./prometheus-provider.js";
import { RuntimePod } from "./test-support/runtime-pod.js";

describe("MetricProviders", () => {
  it.each([
    ["no provider", undefined, "builtin"],
    ["builtin: {}", { builtin: {} }, "builtin"],
    ["prometheus", { prometheus: { address: "http://prometheus.monitoring:9090" } }, "prometheus"],
  ] as const)("builds the kind the spec names: %s", (_, spec, kind) => {
    expect(providerKindOf(spec)).toBe(kind);
    expect(new MetricProviders().for(spec).kind).toBe(kind);
  });

  it("keeps one builtin provider, whose memory of the previous scrape every analysis needs", () => {
    const providers = new MetricProviders();

    expect(providers.for(undefined)).toBe(providers.for({ builtin: {} }));
    expect(providers.for(undefined)).toBeInstanceOf(BuiltinProvider);
  });

  it("keeps one prometheus provider per address", () => {
    const providers = new MetricProviders();
    const a = providers.for({ prometheus: { address: "http://prom-a:9090" } });

    expect(providers.for({ prometheus: { address: "http://prom-a:9090/" } })).toBe(a);
    expect(providers.for({ prometheus: { address: "http://prom-b:9090" } })).not.toBe(a);
    expect(a).toBeInstanceOf(PrometheusProvider);
    expect((a as PrometheusProvider).address).toBe("http://prom-a:9090");
  });

  it("refuses both kinds at once and an address that is not a URL", () => {
    const providers = new MetricProviders();

    expect(() =>
      providers.for({ builtin: {}, prometheus: { address: "http://prom:9090" } }),
    ).toThrow("set exactly one of provider.builtin, provider.prometheus");
    expect(() => providers.for({ prometheus: { address: "prom:9090" } })).toThrow(
      'not a Prometheus address: "prom:9090"',
    );
  });

  describe("forget", () => {
    let pod: RuntimePod | undefined;
    afterEach(async () => {
      await pod?.stop();
    });

    it("starts a model's builtin windows over", async () => {
      pod = await RuntimePod.start("churn-aaa-1");
      const providers = new MetricProviders();
      const req = (now: Date): MeasureRequest => ({
        namespace: "shop",
        model: "churn",
        pods: { stable: [(pod as RuntimePod).ref], canary: [] },
        routerPods: [],
        podPattern: { stable: "churn-aaa-.*", canary: "churn-bbb-.*" },
        custom: [],
        intervalSeconds: 10,
        now,
      });
      const builtin = providers.for(undefined);
      await builtin.measure(req(new Date(0)));
      expect(await builtin.measure(req(new Date(10_000)))).toBeDefined();

      providers.forget("shop", "churn");

      expect(await builtin.measure(req(new Date(20_000)))).toBeUndefined();
    });
  });
});
