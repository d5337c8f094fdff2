// Which raw string columns of each row hold a value outside the schema's categories (reported
// per prediction and counted per feature), shared by every scoring engine.
import type { FeatureSpec } from "../artifact/model-card.js";

/** The answer for a row with no unknown values: one frozen array, so no row allocates one. */
const NONE = Object.freeze([]) as unknown as string[];

/** Finds values outside the declared categories, per row. */
export class UnknownCategories {
  private readonly columns: { name: string; known: Set<string> }[];

  constructor(specs: readonly FeatureSpec[]) {
    this.columns = specs.flatMap((s) =>
      s.type === "categorical" || s.type === "ordinal"
        ? [{ name: s.name, known: new Set(s.type === "categorical" ? s.values : s.order) }]
        : [],
    );
  }

  /** Per row, the columns whose string value is not a declared category (a shared empty array when none). */
  find(rows: readonly Record<string, unknown>[]): string[][] {
    const out: string[][] = new Array(rows.length).fill(NONE);
    for (const { name, known } of this.columns) {
      for (let i = 0; i < rows.length; i++) {
        const v = (rows[i] as Record<string, unknown>)[name];
        if (typeof v === "string" && !known.has(v)) {
          if (out[i] === NONE) out[i] = [];
          (out[i] as string[]).push(name);
        }
      }
    }
    return out;
  }
}
