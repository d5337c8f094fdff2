import type { Registry } from "prom-client";

/** One sample of a metric; histogram samples name their series (`_bucket`, `_sum`, `_count`). */
export interface MetricSample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** Every sample a registry holds for the metric `name` (none when it is not registered). */
export async function metricSamples(registry: Registry, name: string): Promise<MetricSample[]> {
  const m = await registry.getSingleMetric(name)?.get();
  return (m?.values ?? []) as MetricSample[];
}
