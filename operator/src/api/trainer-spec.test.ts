import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { trainerSpecFile } from "../controllers/trainingrun/trainer-spec-file.js";
import { trainingRunSpecSchema } from "./training-run.js";

const root = resolve(fileURLToPath(import.meta.url), "../../../..");
const python = join(root, ".venv", "bin", "python");
const examples = readdirSync(join(root, "trainer", "examples")).filter((f) => f.endsWith(".yaml"));

function crdSpec(file: string) {
  const raw = parse(readFileSync(join(root, "trainer", "examples", file), "utf8"));
  const { dataset: _location, ...rest } = raw as Record<string, unknown>;
  return {
    rest,
    parsed: trainingRunSpecSchema.safeParse({ ...rest, dataset: { url: "https://x/y.csv" } }),
  };
}

interface Example {
  model?: { search?: { space?: unknown }; earlyStopping?: unknown };
  calibration?: { method?: string };
  segments?: string[];
  gates?: { maxSegmentF2Gap?: number };
}

describe("trainer spec fields in the TrainingRun CRD", () => {
  it.each(examples)("accepts %s field for field (search, calibration, segments included)", (f) => {
    const { rest, parsed } = crdSpec(f);
    expect(parsed.success ? "ok" : parsed.error.message).toBe("ok");
    // zod strips unknown keys: equality proves every trainer field is known to the CRD
    expect(trainerSpecFile(parsed.data as never)).toEqual(rest);
  });

  it("the examples between them use every new field", () => {
    const all = examples.map((f) => crdSpec(f).rest as Example);
    expect(all.some((s) => s.model?.search?.space && s.model?.earlyStopping)).toBe(true);
    expect(new Set(all.map((s) => s.calibration?.method))).toEqual(
      new Set(["sigmoid", "isotonic", undefined]),
    );
    expect(all.some((s) => s.segments && s.gates?.maxSegmentF2Gap !== undefined)).toBe(true);
  });

  it.each([
    [{ model: { search: { metric: "accuracy" } } }, "metric"],
    [{ model: { search: { folds: 1 } } }, "folds"],
    [{ model: { search: { refit: "bag" } } }, "refit"],
    [{ model: { earlyStopping: { rounds: 0 } } }, "rounds"],
    [{ calibration: { method: "platt" } }, "method"],
    [{ gates: { maxSegmentF2Gap: 2 } }, "maxSegmentF2Gap"],
  ])("rejects %j", (patch, where) => {
    const { rest } = crdSpec("bank-churn.yaml");
    const r = trainingRunSpecSchema.safeParse({
      ...rest,
      ...patch,
      dataset: { url: "https://x/y.csv" },
    });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join(".")).join(" ")).toContain(where);
  });

  it.skipIf(!existsSync(python))("the trainer parses the search example the CRD accepted", () => {
    const { parsed } = crdSpec("bank-churn-search.yaml");
    const file = trainerSpecFile(parsed.data as never);
    const code =
      "import json,sys\nfrom dataclasses import asdict\nfrom churn_trainer.spec import parse_spec\n" +
      "print(json.dumps(asdict(parse_spec(json.load(sys.stdin))), default=str))";
    const r = spawnSync(python, ["-c", code], { input: JSON.stringify(file), encoding: "utf8" });
    expect(r.stderr).toBe("");
    const s = JSON.parse(r.stdout);
    expect(s.model.search.trials).toBe(30);
    expect(s.model.earlyStoppingRounds).toBe(50);
    expect(s.calibration.method).toBe("isotonic");
    expect(s.segments).toEqual(["Geography", "Gender"]);
  });
});
