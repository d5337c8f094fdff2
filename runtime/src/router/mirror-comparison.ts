// What a mirrored request tells: the same rows scored by both variants, compared row by row.
// The shapes are the serving runtime's /v1/score answer: {"predictions": [{"probability",
// "label", ...}]}, rows in request order.

/** The row-by-row difference between the stable's and the canary's answers to one request. */
export interface MirrorComparison {
  /** |p_canary - p_stable| per row. */
  absDiffs: number[];
  /** Rows whose label (probability >= the variant's threshold) differs. */
  flips: number;
}

/** The two answers cannot be compared; the message says why. */
export class MirrorMismatchError extends Error {
  override readonly name = "MirrorMismatchError";
}

interface Row {
  probability: number;
  label: boolean;
}

/** Compares the stable's and the canary's /v1/score answers (parsed JSON) row by row. */
export function compareScoreAnswers(stable: unknown, canary: unknown): MirrorComparison {
  const s = rowsOf(stable, "stable");
  const c = rowsOf(canary, "canary");
  if (s.length !== c.length) {
    throw new MirrorMismatchError(`stable answered ${s.length} rows, canary ${c.length}`);
  }
  const absDiffs = new Array<number>(s.length);
  let flips = 0;
  for (let i = 0; i < s.length; i++) {
    const a = s[i] as Row;
    const b = c[i] as Row;
    absDiffs[i] = Math.abs(b.probability - a.probability);
    if (a.label !== b.label) flips++;
  }
  return { absDiffs, flips };
}

function rowsOf(answer: unknown, variant: string): Row[] {
  const predictions = (answer as { predictions?: unknown } | null)?.predictions;
  if (!Array.isArray(predictions)) {
    throw new MirrorMismatchError(`the ${variant} answer has no predictions array`);
  }
  predictions.forEach((p, i) => {
    const row = p as Partial<Row> | null;
    if (typeof row?.probability !== "number" || typeof row.label !== "boolean") {
      throw new MirrorMismatchError(
        `the ${variant} answer's prediction ${i} lacks a numeric probability and a boolean label`,
      );
    }
  });
  return predictions as Row[];
}
