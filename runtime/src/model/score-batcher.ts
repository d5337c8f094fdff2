// Adaptive batching of small score calls: requests that reach the model in the same event-loop
// turn share one onnxruntime run (a run's fixed cost dwarfs a row's), then are split again.
// Idle servers see no delay beyond one turn; rows are scored independently, so results are
// identical to unbatched runs.
import type { ScoreOutput } from "./onnx-scorer.js";

/** Anything that scores rows like OnnxScorer. */
export interface RowScorer {
  score(rows: readonly Record<string, unknown>[], withFeatures?: boolean): Promise<ScoreOutput>;
}

type Pending = {
  rows: readonly Record<string, unknown>[];
  withFeatures: boolean;
  resolve: (out: ScoreOutput) => void;
  reject: (err: unknown) => void;
};

/** Coalesces concurrent small score calls into shared runs of at most `maxRows` rows. */
export class ScoreBatcher implements RowScorer {
  private pending: Pending[] = [];
  private scheduled = false;

  constructor(
    private readonly scorer: RowScorer,
    private readonly maxRows = 64,
  ) {}

  score(rows: readonly Record<string, unknown>[], withFeatures = false): Promise<ScoreOutput> {
    // Large requests already amortise the run; they go straight through.
    if (rows.length >= this.maxRows) return this.scorer.score(rows, withFeatures);
    return new Promise((resolve, reject) => {
      this.pending.push({ rows, withFeatures, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const all = this.pending;
    this.pending = [];
    let group: Pending[] = [];
    let size = 0;
    for (const p of all) {
      if (size + p.rows.length > this.maxRows && group.length > 0) {
        void this.run(group);
        group = [];
        size = 0;
      }
      group.push(p);
      size += p.rows.length;
    }
    if (group.length > 0) void this.run(group);
  }

  private async run(group: Pending[]): Promise<void> {
    if (group.length === 1) {
      const [p] = group as [Pending];
      this.scorer.score(p.rows, p.withFeatures).then(p.resolve, p.reject);
      return;
    }
    const rows = group.flatMap((p) => p.rows);
    const withFeatures = group.some((p) => p.withFeatures);
    let out: ScoreOutput;
    try {
      out = await this.scorer.score(rows, withFeatures);
    } catch (err) {
      for (const p of group) p.reject(err);
      return;
    }
    const width = out.features ? out.features.length / rows.length : 0;
    let offset = 0;
    for (const p of group) {
      const n = p.rows.length;
      const part: ScoreOutput = {
        probabilities: out.probabilities.slice(offset, offset + n),
        unknownCategories: out.unknownCategories.slice(offset, offset + n),
      };
      if (p.withFeatures && out.features) {
        part.features = out.features.slice(offset * width, (offset + n) * width);
      }
      p.resolve(part);
      offset += n;
    }
  }
}
