import { operatorMetrics } from "../../operator/src/operator-metrics.js";
import { RuntimeMetrics } from "../../runtime/src/metrics.js";
import { RouterMetrics } from "../../runtime/src/router/router-metrics.js";

/** Who exports a metric: the operator, the runtime serving a model, or the runtime routing. */
export type MetricSource = "operator" | "runtime" | "router";

/** A metric the project's code registers: its type, label names and who exports it. */
export interface RegisteredMetric {
  type: string;
  labelNames: readonly string[];
  sources: readonly MetricSource[];
}

/**
 * Every metric the operator and the runtime (in serve and in route mode) expose, read from their
 * real registries (so a renamed or removed metric is gone here too), with the series names a
 * scrape shows: histograms add `_bucket` (with `le`), `_sum` and `_count`. Node's process
 * metrics are registered by all three.
 */
export async function registeredMetrics(): Promise<Map<string, RegisteredMetric>> {
  const names = new Map<string, RegisteredMetric>();
  const runtime = new RuntimeMetrics({ processMetrics: true });
  const router = new RouterMetrics({ processMetrics: true });
  // What the operator's manager registers: the same function builds its metrics.
  const operator = operatorMetrics().controllers;
  const registries = [
    ["runtime", runtime.registry],
    ["router", router.registry],
    ["operator", operator.registry],
  ] as const;
  const add = (name: string, m: { type: string; labelNames: string[] }, source: MetricSource) => {
    const seen = names.get(name);
    names.set(name, {
      type: m.type,
      labelNames: [...new Set([...(seen?.labelNames ?? []), ...m.labelNames])],
      sources: [...(seen?.sources ?? []), source],
    });
  };
  for (const [source, registry] of registries) {
    for (const m of await registry.getMetricsAsJSON()) {
      const labelNames = [
        ...new Set(
          (m.values as { labels: Record<string, unknown> }[]).flatMap((v) => Object.keys(v.labels)),
        ),
      ];
      const declared = (registry.getSingleMetric(m.name) as unknown as { labelNames?: string[] })
        ?.labelNames;
      const labels = [...new Set([...(declared ?? []), ...labelNames])].filter((l) => l !== "le");
      const type = String(m.type);
      add(m.name, { type, labelNames: labels }, source);
      if (type === "histogram") {
        add(`${m.name}_bucket`, { type, labelNames: [...labels, "le"] }, source);
        add(`${m.name}_sum`, { type, labelNames: labels }, source);
        add(`${m.name}_count`, { type, labelNames: labels }, source);
      }
    }
  }
  return names;
}
