import { TrainingRunMetrics } from "../../operator/src/controllers/trainingrun/training-run-metrics.js";
import { ControllerMetrics } from "../../operator/src/kube/controller-metrics.js";
import { RuntimeMetrics } from "../../runtime/src/metrics.js";

/** A metric the project's code registers: its type and label names. */
export interface RegisteredMetric {
  type: string;
  labelNames: readonly string[];
}

/**
 * Every metric the operator and the runtime expose, read from their real registries (so a
 * renamed or removed metric is gone here too), with the series names a scrape shows:
 * histograms add `_bucket` (with `le`), `_sum` and `_count`.
 */
export async function registeredMetrics(): Promise<Map<string, RegisteredMetric>> {
  const names = new Map<string, RegisteredMetric>();
  const runtime = new RuntimeMetrics({ processMetrics: true });
  // Exactly what the operator's manager registers on its one registry.
  const operator = new ControllerMetrics({ processMetrics: true });
  new TrainingRunMetrics(operator.registry);
  for (const registry of [runtime.registry, operator.registry]) {
    for (const m of await registry.getMetricsAsJSON()) {
      const labelNames = [
        ...new Set(
          (m.values as { labels: Record<string, unknown> }[]).flatMap((v) => Object.keys(v.labels)),
        ),
      ];
      const declared = (registry.getSingleMetric(m.name) as unknown as { labelNames?: string[] })
        ?.labelNames;
      const labels = [...new Set([...(declared ?? []), ...labelNames])].filter((l) => l !== "le");
      names.set(m.name, { type: String(m.type), labelNames: labels });
      if (String(m.type) === "histogram") {
        names.set(`${m.name}_bucket`, { type: "histogram", labelNames: [...labels, "le"] });
        names.set(`${m.name}_sum`, { type: "histogram", labelNames: labels });
        names.set(`${m.name}_count`, { type: "histogram", labelNames: labels });
      }
    }
  }
  return names;
}
