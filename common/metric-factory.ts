// The operator's and the runtime's metric definitions, one call each: name, help and labels (and
// a histogram's buckets), registered in the component's own registry, never the global one.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** Makes metrics registered in `registry`. */
export function metricFactory(registry: Registry) {
  const registers = [registry];
  return {
    /** A counter with these labels. */
    counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []) {
      return new Counter<L>({ name, help, labelNames, registers });
    },
    /** A gauge with these labels; `collect` runs on every scrape. */
    gauge<L extends string = never>(
      name: string,
      help: string,
      labelNames: readonly L[] = [],
      collect?: (this: Gauge<L>) => void | Promise<void>,
    ) {
      return new Gauge<L>({ name, help, labelNames, registers, ...(collect ? { collect } : {}) });
    },
    /** A histogram with these buckets and labels. */
    histogram<L extends string = never>(
      name: string,
      help: string,
      buckets: number[],
      labelNames: readonly L[] = [],
    ) {
      return new Histogram<L>({ name, help, labelNames, buckets, registers });
    },
  };
}

/**
 * A program's own registry (Node's process metrics, `process_*` and `nodejs_*`, in it unless
 * turned off) and the factory of the metrics registered there.
 */
export function programMetrics(options: { processMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  return { registry, ...metricFactory(registry) };
}
