import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../test-support/trained-artifact.js";
import type { ModelCard } from "../artifact/model-card.js";
import { instanceShape } from "../validation/request-rules.js";
import { compileValidator } from "../validation/shape-validator.js";
import { typedCell, typedText } from "./csv-record.js";

const cells = [
  "",
  "0",
  "-0",
  "0.0",
  "-0.0",
  "42",
  "-17",
  "123006.62",
  "0.1",
  "5.",
  ".5",
  "-",
  ".",
  "1.2.3",
  "1e3",
  " 12",
  "0x1F",
  "+5",
  "999999999999999",
  "9999999999999999",
  "123456789012345678.25",
  "0.1000000000000000055511151231257827",
  "00123",
  "true",
  "FALSE",
  "Germany",
  "Müller",
];

describe("typedText", () => {
  it.each(["numeric", "integer", "boolean", "categorical", undefined])(
    "types a %s cell exactly as typedCell does, to the bit",
    (type) => {
      for (const cell of cells) {
        // Embedded in a line, as the batch reader hands it over.
        const line = `x,${cell},y`;
        expect(Object.is(typedText(line, 2, 2 + cell.length, type), typedCell(cell, type))).toBe(
          true,
        );
        expect(typedText(line, 2, 2 + cell.length, type)).toEqual(typedCell(cell, type));
      }
    },
  );

  it("agrees with Number() on many pseudo-random decimals", () => {
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 20000; i++) {
      const digits = String(Math.floor(next() * 10 ** (1 + (i % 15))));
      const point = i % (digits.length + 1);
      const cell = `${i % 3 === 0 ? "-" : ""}${digits.slice(0, point)}.${digits.slice(point)}`;
      expect(Object.is(typedText(cell, 0, cell.length, "numeric"), Number(cell))).toBe(true);
    }
  });
});

/** Cells from real churn files (IBM Telco, European exports) and hostile ones. */
const HOSTILE = [
  ...["", " ", "\t", "NA", " n/a ", "NaN", "nan", "NAN", "null", "None", "na", "-", "."],
  ...["0", "1", "-0", "+1", "1.0", "1.00", "0.0", "2", "-1", "0.5", "1e0", "1e3", "1E-3", ".5"],
  ...["5.", "1e308", "1e309", "-1e309", "inf", "-inf", "Infinity", "0x1F", "0b101", "0o7"],
  ...["1_000", "1,5", "12,50", " 12 ", "\u00a012\u00a0", "12\u3000", "\ufeff12", "12\u001f"],
  ...["9007199254740991", "9007199254740992", "9007199254740993", "-9007199254740993"],
  ...["123456789012345678901234567890", "29.85", "1889.5", "00123", "0.1000000000000000055511"],
  ...["yes", "Yes", "YES", "no", "No", "y", "N", "t", "f", "true", "False", "oui", "churned"],
  ...["Month-to-month", "No internet service", "Bank transfer (automatic)", "Electronic check"],
  ...["Bretagne ", " Zürich", "Île-de-France", "漢字", "a,b", 'say "hi"', "two\nlines", "NA "],
];
const KINDS = ["numeric", "integer", "boolean", "categorical"] as const;

/** Each cell as the trainer reads it, one single-row training file per cell and kind. */
function trainerReadings(cells: readonly string[]): Record<string, unknown[]> {
  const script = `
import csv, io, json, math, sys
from churn_trainer.data import RawDataset, parse
from churn_trainer.spec import parse_spec
cells = json.load(sys.stdin)
out = {}
for kind in ${JSON.stringify(KINDS)}:
    feature = {"name": "x", "type": kind, "nullable": True}
    target = {"column": "y", "positive": 1}
    spec = parse_spec({"name": "c", "dataset": {"location": "x.csv"},
                       "schema": {"target": target, "features": [feature]}})
    got = []
    for cell in cells:
        buf = io.StringIO()
        csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\\n").writerows([["x", "y"], [cell, "1"]])
        t = parse(RawDataset(buf.getvalue().encode(), "", "x.csv"), spec, [])
        v = t.features["x"].iloc[0]
        missing = v is None or (isinstance(v, float) and math.isnan(v))
        got.append("bad" if t.type_errors else None if missing else v)
    out[kind] = got
print(json.dumps(out))
`;
  const stdout = execFileSync(join(repoRoot, ".venv", "bin", "python"), ["-c", script], {
    input: JSON.stringify(cells),
    encoding: "utf8",
  });
  return JSON.parse(stdout) as Record<string, unknown[]>;
}

describe("typedCell reads a cell as the trainer reads its training file", () => {
  const card = {
    schema: {
      idColumn: null,
      features: [
        { name: "numeric", type: "numeric", nullable: true },
        { name: "integer", type: "integer", nullable: true },
        { name: "boolean", type: "boolean", nullable: true },
        {
          name: "categorical",
          type: "categorical",
          nullable: true,
          values: ["a"],
          unseen: "ignore",
        },
      ],
    },
    features: { raw: [...KINDS], encoded: ["x"], encodedToRaw: [0] },
  } as unknown as ModelCard;
  const validator = compileValidator(instanceShape(card));
  /** The runtime's reading: null (missing), the value the model gets, or "bad" (refused). */
  const served = (cell: string, kind: string): unknown => {
    const v = typedCell(cell, kind);
    if (v === null) return null;
    if (!validator.accepts({ [kind]: v })) return "bad";
    return typeof v === "boolean" ? Number(v) : v;
  };
  // The sign of a zero is not kept by pandas' number parser; no split tells -0 from 0.
  const unsigned = (v: unknown) => (v === 0 ? 0 : v);

  let trainer: Record<string, unknown[]>;
  beforeAll(() => {
    trainer = trainerReadings(HOSTILE);
  });

  it.each(KINDS)("%s cells", (kind) => {
    const differ = HOSTILE.flatMap((cell, i) => {
      const want = unsigned(trainer[kind]?.[i]);
      const got = unsigned(served(cell, kind));
      return Object.is(got, want) ? [] : [{ cell, trainer: want, runtime: got }];
    });
    expect(differ).toEqual([]);
  });
});
