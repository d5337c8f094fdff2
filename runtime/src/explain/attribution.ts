// Turns per-encoded-feature SHAP values into per-raw-column explanations: one-hot parts are
// summed back to their column and the strongest drivers either way are listed.
import type { ModelCard } from "../artifact/model-card.js";

/** One feature's push on the log-odds. */
export interface Driver {
  feature: string;
  value: unknown;
  contribution: number;
}

/** The explanation of one row. */
export interface Explanation {
  /** Expected log-odds over the training data (SHAP base value). */
  baseValue: number;
  /** This row's log-odds: baseValue plus the sum of contributions. */
  logOdds: number;
  /** SHAP value per raw input column, in log-odds. */
  contributions: Record<string, number>;
  topPositive: Driver[];
  topNegative: Driver[];
}

/** Builds explanations from row-major contributions (F encoded values + base value per row). */
export function explainRows(
  card: ModelCard,
  rows: readonly Record<string, unknown>[],
  phi: Float64Array,
  topN: number,
): Explanation[] {
  const raw = card.features.raw;
  const map = card.features.encodedToRaw;
  const f = map.length;
  const out: Explanation[] = [];
  const sums = new Float64Array(raw.length);
  for (let r = 0; r < rows.length; r++) {
    sums.fill(0);
    const offset = r * (f + 1);
    let logOdds = phi[offset + f] as number;
    for (let j = 0; j < f; j++) {
      const v = phi[offset + j] as number;
      sums[map[j] as number] = (sums[map[j] as number] as number) + v;
      logOdds += v;
    }
    const contributions: Record<string, number> = {};
    const drivers: Driver[] = [];
    const row = rows[r] as Record<string, unknown>;
    for (let k = 0; k < raw.length; k++) {
      const name = raw[k] as string;
      const c = sums[k] as number;
      contributions[name] = c;
      drivers.push({ feature: name, value: row[name] ?? null, contribution: c });
    }
    const positive = drivers.filter((d) => d.contribution > 0);
    const negative = drivers.filter((d) => d.contribution < 0);
    positive.sort((a, b) => b.contribution - a.contribution);
    negative.sort((a, b) => a.contribution - b.contribution);
    out.push({
      baseValue: phi[offset + f] as number,
      logOdds,
      contributions,
      topPositive: positive.slice(0, topN),
      topNegative: negative.slice(0, topN),
    });
  }
  return out;
}
