// The columns of a part file, from what the model service returned for a batch: the customer
// id, the probability exactly as the online server returns it (the graph's float32 widened to
// a double, never rounded), the label, unseen categories and, when asked, the top-k SHAP
// drivers by absolute contribution.
import type { Prediction } from "../model/model-service.js";

/** A column's name, Parquet type and values for one batch. */
export interface OutputColumn {
  name: string;
  type: "STRING" | "DOUBLE" | "BOOLEAN";
  data: unknown[];
}

/** The names and types of the output columns (fixed before the first batch). */
export function outputSchema(idColumn: string, topK: number): Omit<OutputColumn, "data">[] {
  const cols: Omit<OutputColumn, "data">[] = [
    { name: idColumn, type: "STRING" },
    { name: "probability", type: "DOUBLE" },
    { name: "label", type: "BOOLEAN" },
    { name: "unknownCategories", type: "STRING" },
  ];
  for (let k = 1; k <= topK; k++) {
    cols.push({ name: `driver${k}`, type: "STRING" });
    cols.push({ name: `driver${k}Contribution`, type: "DOUBLE" });
  }
  return cols;
}

/** The k features with the largest absolute contribution, strongest first. */
export function topDrivers(contributions: Record<string, number>, k: number): [string, number][] {
  return Object.entries(contributions)
    .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]) || (a[0] < b[0] ? -1 : 1))
    .slice(0, k);
}

function pushDrivers(cols: OutputColumn[], p: Prediction, topK: number): void {
  const drivers = topDrivers(p.explanation?.contributions ?? {}, topK);
  for (let k = 0; k < topK; k++) {
    const d = drivers[k];
    (cols[4 + 2 * k] as OutputColumn).data.push(d ? d[0] : null);
    (cols[5 + 2 * k] as OutputColumn).data.push(d ? d[1] : null);
  }
}

/** One batch as columns; `ids` are the rows' id values (null when a row has none). */
export function outputColumns(
  idColumn: string,
  topK: number,
  ids: readonly unknown[],
  predictions: readonly Prediction[],
): OutputColumn[] {
  const cols = outputSchema(idColumn, topK).map((c) => ({ ...c, data: [] as unknown[] }));
  const [id, probability, label, unknown] = cols as [
    OutputColumn,
    OutputColumn,
    OutputColumn,
    OutputColumn,
  ];
  predictions.forEach((p, i) => {
    const v = ids[i];
    id.data.push(v === null || v === undefined ? null : String(v));
    probability.data.push(p.probability);
    label.data.push(p.label);
    unknown.data.push(p.unknownCategories?.length ? p.unknownCategories.join(",") : null);
    if (topK > 0) pushDrivers(cols, p, topK);
  });
  return cols;
}
