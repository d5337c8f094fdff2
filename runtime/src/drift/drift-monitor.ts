// Population stability index (PSI) of live inputs and scores against baseline.json, over a
// sliding window of the most recent rows, with the trainer's bins.
import type { Baseline } from "../artifact/baseline.js";

/** Empty bins are floored to this fraction so the PSI stays finite. */
export const PSI_EPSILON = 1e-4;

/** PSI over fewer rows than this is noise; it is not reported (capped by the window size). */
export const MIN_DRIFT_ROWS = 100;

/** Counts over the last `size` observations of one variable, by bin. */
class WindowedHistogram {
  private readonly ring: Int32Array;
  private readonly counts: Float64Array;
  private next = 0;
  private filled = 0;

  constructor(
    readonly expected: readonly number[],
    size: number,
  ) {
    this.ring = new Int32Array(size);
    this.counts = new Float64Array(expected.length);
  }

  add(bin: number): void {
    if (this.filled === this.ring.length) {
      const old = this.ring[this.next] as number;
      this.counts[old] = (this.counts[old] as number) - 1;
    } else {
      this.filled++;
    }
    this.ring[this.next] = bin;
    this.counts[bin] = (this.counts[bin] as number) + 1;
    this.next = (this.next + 1) % this.ring.length;
  }

  get rows(): number {
    return this.filled;
  }

  /** PSI = sum (actual - expected) * ln(actual / expected); null below `minRows` observations. */
  psi(minRows: number): number | null {
    if (this.filled === 0 || this.filled < minRows) return null;
    let total = 0;
    for (let i = 0; i < this.expected.length; i++) {
      const e = Math.max(this.expected[i] as number, PSI_EPSILON);
      const a = Math.max((this.counts[i] as number) / this.filled, PSI_EPSILON);
      total += (a - e) * Math.log(a / e);
    }
    return total;
  }
}

/** Index of the bin [edge_i, edge_i+1) holding x; null edges stand for -inf/+inf. */
export function numericBin(binEdges: readonly (number | null)[], x: number): number {
  // Inner edges only: the first and last are open ends.
  let lo = 1;
  let hi = binEdges.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const edge = binEdges[mid];
    if (edge === null || edge === undefined || x < edge) hi = mid;
    else lo = mid + 1;
  }
  return Math.min(Math.max(lo - 1, 0), binEdges.length - 2);
}

type FeatureTracker = { name: string; bin: (v: unknown) => number | null; hist: WindowedHistogram };

/** A point-in-time view of the drift window. */
export interface DriftSnapshot {
  windowRows: number;
  features: Record<string, number | null>;
  score: number | null;
  positiveRate: number | null;
}

/** Tracks per-feature and score PSI plus the predicted positive rate over the last `windowSize` rows. */
export class DriftMonitor {
  private readonly trackers: FeatureTracker[] = [];
  private readonly score: WindowedHistogram;
  private readonly scoreEdges: readonly (number | null)[];
  private readonly positives: Uint8Array;
  private positiveCount = 0;
  private positiveNext = 0;
  private positiveFilled = 0;

  private readonly minRows: number;

  constructor(baseline: Baseline, windowSize: number, minRows = MIN_DRIFT_ROWS) {
    this.minRows = Math.min(minRows, windowSize);
    for (const [name, spec] of Object.entries(baseline.features)) {
      if (spec.type === "numeric") {
        const e = spec.bins;
        if (spec.fractions.length !== e.length - 1) {
          throw new Error(
            `baseline.json ${name}: ${e.length} edges need ${e.length - 1} fractions`,
          );
        }
        this.trackers.push({
          name,
          bin: (v) => {
            const x = typeof v === "boolean" ? Number(v) : v;
            return typeof x === "number" && Number.isFinite(x) ? numericBin(e, x) : null;
          },
          hist: new WindowedHistogram(spec.fractions, windowSize),
        });
      } else {
        if (spec.fractions.length !== spec.categories.length) {
          throw new Error(`baseline.json ${name}: one fraction per category expected`);
        }
        const index = new Map(spec.categories.map((c, i) => [c, i]));
        const other = index.get("__other__");
        this.trackers.push({
          name,
          bin: (v) => {
            if (typeof v !== "string" || v === "") return null;
            return index.get(v) ?? other ?? null;
          },
          hist: new WindowedHistogram(spec.fractions, windowSize),
        });
      }
    }
    this.scoreEdges = baseline.score.bins;
    if (baseline.score.fractions.length !== this.scoreEdges.length - 1) {
      throw new Error("baseline.json score: one fraction per bin expected");
    }
    this.score = new WindowedHistogram(baseline.score.fractions, windowSize);
    this.positives = new Uint8Array(windowSize);
  }

  /** Records one scored row: its raw inputs, probability and label. */
  observe(row: Record<string, unknown>, probability: number, positive: boolean): void {
    this.observeBatch([row], [probability], [positive ? 1 : 0]);
  }

  /**
   * Records a batch of scored rows: their raw inputs, probabilities and labels (1 positive).
   * Column by column: each window is independent, so this leaves the windows as recording the
   * rows one by one would, with one column's lookups in one loop (about a tenth cheaper).
   */
  observeBatch(
    rows: readonly Record<string, unknown>[],
    probabilities: ArrayLike<number>,
    positives: ArrayLike<number>,
  ): void {
    for (const t of this.trackers) {
      const { name, bin, hist } = t;
      for (const row of rows) {
        const b = bin(row[name]);
        if (b !== null) hist.add(b);
      }
    }
    for (let i = 0; i < rows.length; i++) {
      this.score.add(numericBin(this.scoreEdges, probabilities[i] as number));
      const positive = positives[i] === 1 ? 1 : 0;
      if (this.positiveFilled === this.positives.length) {
        this.positiveCount -= this.positives[this.positiveNext] as number;
      } else {
        this.positiveFilled++;
      }
      this.positives[this.positiveNext] = positive;
      this.positiveCount += positive;
      this.positiveNext = (this.positiveNext + 1) % this.positives.length;
    }
  }

  /** The feature names tracked (bounded: the schema's columns). */
  get featureNames(): string[] {
    return this.trackers.map((t) => t.name);
  }

  snapshot(): DriftSnapshot {
    const features: Record<string, number | null> = {};
    for (const t of this.trackers) features[t.name] = t.hist.psi(this.minRows);
    return {
      windowRows: this.positiveFilled,
      features,
      score: this.score.psi(this.minRows),
      positiveRate: this.positiveFilled === 0 ? null : this.positiveCount / this.positiveFilled,
    };
  }
}
