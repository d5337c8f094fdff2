// A Prometheus histogram without labels that takes a batch of observations in one call. The
// probability histogram sees every scored row; prom-client's Histogram.observe resolves labels
// and allocates on each call, which at 1000 rows a request cost about as much as validating
// them. Its exposition (text and JSON) is prom-client's Histogram's, value for value.
import type { Metric, Registry } from "prom-client";

/** One exported sample, as prom-client's metrics give them to the registry. */
interface Sample {
  labels: { le?: number | string };
  value: number;
  metricName: string;
}

/** A label-less histogram (`buckets` ascending) registered in `registers`, observed a batch at a time. */
export class BulkHistogram {
  readonly type = "histogram";
  readonly aggregator = "sum";
  private readonly upperBounds: readonly number[];
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    buckets: readonly number[],
    registers: readonly Registry[],
  ) {
    this.upperBounds = [...buckets];
    this.counts = new Float64Array(this.upperBounds.length);
    for (const r of registers) r.registerMetric(this as unknown as Metric);
  }

  /** Records each value, in order (NaN and infinities are refused, as prom-client does). */
  observeAll(values: ArrayLike<number>): void {
    const bounds = this.upperBounds;
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number;
      if (!Number.isFinite(v)) throw new TypeError(`Value is not a valid number: ${v}`);
      // Above the last bound: counted only in +Inf (count), as prom-client does.
      let b = 0;
      while (b < bounds.length && v > (bounds[b] as number)) b++;
      if (b < bounds.length) this.counts[b] = (this.counts[b] as number) + 1;
      this.sum += v;
      this.count += 1;
    }
  }

  /** Forgets every observation (Registry.resetMetrics). */
  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }

  /** The samples as prom-client's Histogram.get() lists them: cumulative buckets, +Inf, sum, count. */
  async get() {
    const bucket = `${this.name}_bucket`;
    const values: Sample[] = [];
    let cumulative = 0;
    for (let b = 0; b < this.upperBounds.length; b++) {
      cumulative += this.counts[b] as number;
      values.push({ labels: { le: this.upperBounds[b] }, value: cumulative, metricName: bucket });
    }
    values.push(
      { labels: { le: "+Inf" }, value: this.count, metricName: bucket },
      { labels: {}, value: this.sum, metricName: `${this.name}_sum` },
      { labels: {}, value: this.count, metricName: `${this.name}_count` },
    );
    const { name, help, type, aggregator } = this;
    return { name, help, type, values, aggregator };
  }
}
