// A batch of input rows as the shard scores them: each row already projected onto the model's
// fields, with its id and where it is in the input, in parallel arrays (no object per row
// beyond the row itself; positions are formatted only for the rows that are rejected).

/** Rows of one batch, in input order. */
export class SourceBatch {
  /** The rows, projected onto the model's fields (those the input has). */
  readonly rows: Record<string, unknown>[] = [];
  /** Each row's id value (null when it has none). */
  readonly ids: unknown[] = [];
  /** Why a row cannot even be a row (a CSV line with the wrong number of cells), by index. */
  readonly problems = new Map<number, string>();
  private readonly offsets: number[] = [];
  private readonly units: string[] = [];

  get length(): number {
    return this.rows.length;
  }

  /** Adds a row; its position is `${unit}${offset}` (`byte 12`, `s3://b/k row 3`). */
  push(row: Record<string, unknown>, id: unknown, unit: string, offset: number): void {
    this.rows.push(row);
    this.ids.push(id);
    this.units.push(unit);
    this.offsets.push(offset);
  }

  /** Adds a record that is no row, with the reason. */
  pushProblem(problem: string, unit: string, offset: number): void {
    this.problems.set(this.rows.length, problem);
    this.push({}, null, unit, offset);
  }

  /** Where row i starts in the input (for the rejects file). */
  position(i: number): string {
    return `${this.units[i]}${this.offsets[i]}`;
  }
}

/** Rows cut into batches of at most `size`, whatever file or chunk they come from. */
export class BatchCutter {
  private batch = new SourceBatch();
  private readonly ready: SourceBatch[] = [];

  constructor(private readonly size: number) {}

  /** Adds a row (see SourceBatch.push). */
  push(row: Record<string, unknown>, id: unknown, unit: string, offset: number): void {
    this.batch.push(row, id, unit, offset);
    this.cut();
  }

  /** Adds a record that is no row (see SourceBatch.pushProblem). */
  pushProblem(problem: string, unit: string, offset: number): void {
    this.batch.pushProblem(problem, unit, offset);
    this.cut();
  }

  private cut(): void {
    if (this.batch.length < this.size) return;
    this.ready.push(this.batch);
    this.batch = new SourceBatch();
  }

  /** The full batches gathered so far and, with `all` (at the end), the partial one. */
  take(all = false): SourceBatch[] {
    const out = this.ready.splice(0);
    if (all && this.batch.length > 0) {
      out.push(this.batch);
      this.batch = new SourceBatch();
    }
    return out;
  }
}
