// ModelInfer inputs for tests: rows as typed contents, the way a gRPC client of the protocol
// sends them (strings as bytes, numbers as doubles, flags as booleans).
import type { ModelCard } from "../src/artifact/model-card.js";

/** One typed-contents input per raw column of the card, holding `rows` in order. */
export function typedInputs(card: ModelCard, rows: Record<string, unknown>[]) {
  return card.schema.features.map((f) => {
    const values = rows.map((r) => r[f.name]);
    if (f.type === "categorical" || f.type === "ordinal") {
      const bytes = values.map((v) => Buffer.from(String(v)));
      return {
        name: f.name,
        datatype: "BYTES",
        shape: [rows.length],
        contents: { bytes_contents: bytes },
      };
    }
    if (f.type === "boolean") {
      const flags = values.map((v) => v === 1 || v === true);
      return {
        name: f.name,
        datatype: "BOOL",
        shape: [rows.length],
        contents: { bool_contents: flags },
      };
    }
    return {
      name: f.name,
      datatype: "FP64",
      shape: [rows.length],
      contents: { fp64_contents: values },
    };
  });
}
