// The operator -> trainer contract with hostile values: random TrainingRun specs whose strings
// are YAML 1.1 booleans (Yes, No, On, Off, y, n), nulls, number-, octal- and date-like text,
// YAML syntax and arbitrary Unicode go through the operator's real ConfigMap and come back from
// the trainer's own reader and spec parser with every value and type unchanged. The same specs
// written by Node's YAML 1.2 writer (how people and the runtime's fixture write trainer files)
// must read back identically too.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { type TrainingRun, trainingRunSpecSchema } from "../../api/training-run.js";
import { buildTrainingSpecConfigMap } from "./build-training-job.js";
import { TRAINER_SPEC_FILE_NAME, trainerSpecFile } from "./trainer-spec-file.js";

const root = resolve(fileURLToPath(import.meta.url), "../../../../..");
const python = join(root, ".venv", "bin", "python");
const RUNS = Number(process.env.FC_RUNS ?? 150);

/** Strings that YAML 1.1 or 1.2 readers may take for something other than text. */
const HOSTILE = [
  ...["y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO"],
  ...["true", "True", "TRUE", "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF"],
  ...["null", "Null", "NULL", "~", "None", "NaN", ".nan", ".NaN", ".inf", "-.Inf", "+.INF"],
  ...["0", "1", "-0", "+1", "0755", "0o17", "0x1F", "0b101", "1_000", "1e3", "1E-3", ".5", "5."],
  ...["1:30", "190:20:30", "2024-01-01", "2001-12-14t21:59:43.10-05:00", "2002-12-14 21:59:43"],
  ...["=", "<<", "-", "- x", "? x", "a: b", "a #b", "#c", "[x]", "{x: 1}", "'q'", '"d"', "!t"],
  ...["&a", "*a", "|", ">", "%x", "@x", "`x", " lead", "trail ", "two\nlines", "tab\tin"],
  ...["Fiber optic", "No phone service", "é", "漢字", "🙂", "\\", "\u00a0", "\u2028", "\ufeff"],
];

/** Whether `s` holds a character outside YAML's printable set (both 1.1 and 1.2). */
const notYamlPrintable = (s: string) =>
  [...s].some((ch) => {
    const c = ch.codePointAt(0) ?? 0;
    const control = c <= 0x1f && c !== 0x09 && c !== 0x0a && c !== 0x0d;
    return control || (c >= 0x7f && c <= 0x9f && c !== 0x85) || c === 0xfffe || c === 0xffff;
  });

const text = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE) },
  { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 12, unit: "binary" }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(...HOSTILE), fc.constantFrom(...HOSTILE))
      .map(([a, b]) => a + b),
  },
);
/** Texts the trainer accepts as a category or column name (non-empty after its checks). */
const name = text.filter((s) => s !== "" && s.length <= 256);
const names = (min: number, max: number) =>
  fc.uniqueArray(name, { minLength: min, maxLength: max, selector: (s) => s });

const RESERVED = new Set(["probability", "features", "label", "probabilities"]);

/** A TrainingRun spec that the CRD and the trainer both accept, full of hostile strings. */
const hostileSpec = fc
  .record({
    runName: name,
    columns: names(7, 12),
    categories: names(1, 6),
    levels: names(1, 6),
    positive: fc.oneof(
      text.filter((s) => s.length <= 256),
      fc.integer(),
      fc.boolean(),
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (Object.is(d, -0) ? 0 : d)),
    ),
    intCategory: fc.option(fc.integer({ min: -1e6, max: 1e6 }), { nil: undefined }),
    fill: fc.nat(),
    delimiter: fc.option(fc.constantFrom(";", "\t", "|", ":", "#", "'"), { nil: undefined }),
  })
  .filter(
    ({ columns }) =>
      !columns.some((c) => RESERVED.has(c) || c.startsWith("_churn_")) &&
      new Set(columns).size === columns.length,
  )
  .map(({ runName, columns, categories, levels, positive, intCategory, fill, delimiter }) => {
    const [target, id, cat, ord, num, bool, ...dropped] = columns as [string, ...string[]];
    const values: (string | number)[] = [...categories];
    if (intCategory !== undefined && !categories.includes(String(intCategory)))
      values.push(intCategory);
    return trainingRunSpecSchema.parse({
      name: runName,
      dataset: { url: "https://example.com/data.csv", ...(delimiter ? { delimiter } : {}) },
      schema: {
        idColumn: id,
        target: { column: target, positive },
        drop: dropped,
        features: [
          {
            name: cat,
            type: "categorical",
            values,
            nullable: true,
            impute: { strategy: "constant", value: categories[fill % categories.length] },
          },
          { name: ord, type: "ordinal", order: levels },
          { name: num, type: "numeric", min: -1.5, max: 1e9 },
          { name: bool as string, type: "boolean" },
        ],
      },
      model: { hyperparameters: { max_depth: 3, grow_policy: "lossguide" } },
    });
  });

/** The trainer's reader and parser, kept running: one JSON request and reply per line. */
class TrainerReader {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: ((line: string) => void)[] = [];
  constructor() {
    const code = [
      "import json, sys",
      "from churn_trainer.spec import parse_spec",
      "from churn_trainer.spec_file import read_spec_document",
      "for line in sys.stdin:",
      "    path = json.loads(line)",
      "    try:",
      "        raw = read_spec_document(path)",
      "        s = parse_spec(raw)",
      "        f = s.schema.features",
      "        out = {'raw': raw, 'positive': s.schema.target.positive,",
      "               'positiveType': type(s.schema.target.positive).__name__,",
      "               'values': f[0].values, 'fill': f[0].impute.value, 'order': f[1].order,",
      "               'drop': s.schema.drop, 'id': s.schema.idColumn, 'name': s.name,",
      "               'delimiter': s.dataset.delimiter}",
      "    except Exception as e:",
      "        out = {'error': f'{type(e).__name__}: {e}'}",
      "    print(json.dumps(out, default=repr), flush=True)",
    ].join("\n");
    this.child = spawn(python, ["-c", code], { cwd: root });
    createInterface({ input: this.child.stdout }).on("line", (l) => this.waiting.shift()?.(l));
  }
  read(path: string): Promise<Record<string, unknown>> {
    return new Promise((ok) => {
      this.waiting.push((l) => ok(JSON.parse(l)));
      this.child.stdin.write(`${JSON.stringify(path)}\n`);
    });
  }
  close() {
    this.child.stdin.end();
  }
}

describe.skipIf(!existsSync(python))("the trainer reads what the operator wrote", () => {
  let reader: TrainerReader;
  let dir: string;
  beforeAll(() => {
    reader = new TrainerReader();
    dir = mkdtempSync(join(tmpdir(), "spec-contract-"));
  });
  afterAll(() => {
    reader?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const expectSameSpec = (got: Record<string, unknown>, spec: TrainingRun["spec"]) => {
    expect(got.error).toBeUndefined();
    expect(got.raw).toEqual(trainerSpecFile(spec));
    const feats = spec.schema.features;
    expect(got.positive).toEqual(spec.schema.target.positive);
    // Text stays text and a boolean stays a boolean; a number may be int or float (JSON has one
    // number type; the trainer compares numbers by value).
    const kind = typeof spec.schema.target.positive;
    const want = kind === "string" ? ["str"] : kind === "boolean" ? ["bool"] : ["int", "float"];
    expect(want).toContain(got.positiveType);
    expect(got.values).toEqual(feats[0]?.values?.map(String));
    expect(got.fill).toBe(feats[0]?.impute?.value);
    expect(got.order).toEqual(feats[1]?.order?.map(String));
    expect(got.drop).toEqual(spec.schema.drop);
    expect(got.id).toBe(spec.schema.idColumn);
    expect(got.name).toBe(spec.name);
    expect(got.delimiter).toBe(spec.dataset.delimiter ?? ",");
  };

  it("through the ConfigMap the operator creates (JSON)", async () => {
    await fc.assert(
      fc.asyncProperty(hostileSpec, async (spec) => {
        const run = {
          apiVersion: "churn.mlops.dev/v1alpha1",
          kind: "TrainingRun",
          metadata: { name: "r", namespace: "n", uid: "u" },
          spec,
        } as TrainingRun;
        const cm = buildTrainingSpecConfigMap(run);
        expect(Object.keys(cm.data ?? {})).toEqual([TRAINER_SPEC_FILE_NAME]);
        const path = join(dir, TRAINER_SPEC_FILE_NAME);
        writeFileSync(path, cm.data?.[TRAINER_SPEC_FILE_NAME] ?? "");
        expectSameSpec(await reader.read(path), spec);
      }),
      { numRuns: RUNS },
    );
  });

  it("through a trainer YAML file written by a YAML 1.2 writer, or a clear refusal", async () => {
    // PyYAML's scanner follows YAML 1.1 in two places: it refuses a tab inside a plain scalar
    // (an error naming the line; filtered out here), and it reads U+0085, U+2028 and U+2029 as
    // line breaks, so the trainer refuses those raw in YAML and names the character instead of
    // silently cutting a value. The JSON path above, the operator's, has neither gap.
    const noTabs = hostileSpec.filter((spec) => !JSON.stringify(spec).includes("\\t"));
    await fc.assert(
      fc.asyncProperty(noTabs, async (spec) => {
        const path = join(dir, "spec.yaml");
        const yamlText = stringify(trainerSpecFile(spec));
        writeFileSync(path, yamlText);
        const got = await reader.read(path);
        const ambiguous = /[\u0085\u2028\u2029]/.exec(yamlText);
        if (notYamlPrintable(yamlText)) {
          // Node's writer emits C0/C1 controls raw inside double quotes, which YAML forbids;
          // PyYAML refuses the file naming the character.
          expect(got.error).toMatch(/unacceptable character #x/);
        } else if (ambiguous) {
          const code = ambiguous[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");
          expect(got.error).toContain(`raw U+${code}`);
        } else expectSameSpec(got, spec);
      }),
      { numRuns: RUNS },
    );
  });
});
