// Hostile probe rows for the engine check: every declared category, missing and unseen values,
// empty and unicode strings, wrong JSON types, NaN, infinities, values past float32's range,
// and every split threshold the trees compare a numeric column with (and the float32 just
// below it), so a faster engine is compared with onnxruntime where encodings and branch
// decisions are most likely to part.
import { type ModelCard, rawFeatureSpecs } from "../artifact/model-card.js";
import type { TreeEnsemble } from "../explain/onnx-trees.js";
import { SplitMode } from "../explain/onnx-trees.js";

/** A value meaning "leave the column out of the row". */
const ABSENT = Symbol("absent");

const STRANGE_NUMBERS = [
  null,
  ABSENT,
  0,
  -0,
  1,
  -1,
  0.5,
  1e-45,
  1e30,
  -1e30,
  3.5e38,
  -3.5e38,
  Number.MAX_VALUE,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  true,
  false,
  "12",
];

const STRANGE_STRINGS = [
  null,
  ABSENT,
  "",
  "__never_seen_in_training__",
  "ünïcødé ☃ 🚀",
  "\u0000",
  " ",
  5,
  true,
];

/** The largest float32 below `v` (for finite, non-zero float32 `v`). */
function float32Below(v: number): number {
  const buf = new Float32Array([v]);
  const bits = new Int32Array(buf.buffer);
  bits[0] = (bits[0] as number) + (v > 0 ? -1 : 1);
  return buf[0] as number;
}

/** Per raw column, the thresholds the trees compare its (numeric) encoded value with. */
function thresholdsByRaw(card: ModelCard, ensemble: TreeEnsemble): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (let i = 0; i < ensemble.mode.length; i++) {
    if (ensemble.mode[i] === SplitMode.LEAF) continue;
    const raw = card.features.encodedToRaw[ensemble.feature[i] as number];
    if (raw === undefined) continue;
    const t = ensemble.threshold[i] as number;
    const list = out.get(raw) ?? [];
    list.push(t);
    if (Number.isFinite(t) && t !== 0) list.push(float32Below(t));
    out.set(raw, list);
  }
  return out;
}

/** Deterministic probe rows (at least `minRows`), every candidate value of every column used. */
export function engineProbeRows(
  card: ModelCard,
  ensemble: TreeEnsemble,
  minRows = 256,
): Record<string, unknown>[] {
  const specs = rawFeatureSpecs(card);
  const thresholds = thresholdsByRaw(card, ensemble);
  const candidates = specs.map((s, j) => {
    if (s.type === "categorical" || s.type === "ordinal") {
      const cats = s.type === "categorical" ? s.values : s.order;
      const variants = cats.flatMap((c) => [c.toUpperCase(), `${c}\u0000x`, `${c} `]);
      return [...cats, ...variants, ...STRANGE_STRINGS];
    }
    return [...(thresholds.get(j) ?? []), ...STRANGE_NUMBERS];
  });
  const rows = Math.max(minRows, ...candidates.map((c) => c.length));
  // A small LCG: the same rows on every load, so a verdict never flips between restarts.
  let seed = 12345;
  const next = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed >>> 8;
  };
  const out: Record<string, unknown>[] = [];
  for (let r = 0; r < rows; r++) {
    const row: Record<string, unknown> = {};
    specs.forEach((s, j) => {
      const list = candidates[j] as unknown[];
      // The first pass walks each column's list in order; the rest mixes at random.
      const v = r < list.length ? list[r] : list[next() % list.length];
      if (v !== ABSENT) row[s.name] = v;
    });
    out.push(row);
  }
  return out;
}
