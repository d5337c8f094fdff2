import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { trainingRunSpecSchema } from "../../api/training-run.js";
import { trainerSpecFile } from "./trainer-spec-file.js";

const root = resolve(fileURLToPath(import.meta.url), "../../../../..");
const python = join(root, ".venv", "bin", "python");
const example = parse(readFileSync(join(root, "examples", "training-run-bank.yaml"), "utf8"));

describe("trainerSpecFile", () => {
  const spec = trainingRunSpecSchema.parse(example.spec);
  const file = trainerSpecFile(spec);

  it("drops every Kubernetes-only field and passes the trainer's fields through", () => {
    expect(Object.keys(file).sort()).toEqual(
      ["expectations", "gates", "model", "name", "schema", "split", "threshold"].sort(),
    );
    expect(file.schema).toEqual(example.spec.schema);
  });

  it("keeps only the CSV dialect of the dataset (the location goes to --data)", () => {
    const withDelimiter = trainingRunSpecSchema.parse({
      ...example.spec,
      dataset: { url: "https://example.com/x.csv", delimiter: ";" },
    });
    expect(trainerSpecFile(withDelimiter).dataset).toEqual({ delimiter: ";" });
  });

  it("passes the format and the S3 endpoint and region, never the credentials Secret", () => {
    const s3 = trainingRunSpecSchema.parse({
      ...example.spec,
      dataset: {
        s3: {
          bucket: "bkt",
          key: "k.csv",
          endpoint: "http://s3:8333",
          region: "eu-west-1",
          credentialsSecret: "creds",
        },
        format: "csv",
      },
    });
    expect(trainerSpecFile(s3).dataset).toEqual({
      format: "csv",
      s3: { endpoint: "http://s3:8333", region: "eu-west-1" },
    });
  });

  it("refuses an S3 source without exactly one of key and prefix, or a bad bucket", () => {
    const parse = (s3: object) =>
      trainingRunSpecSchema.safeParse({ ...example.spec, dataset: { s3 } }).success;
    expect(parse({ bucket: "b", key: "k" })).toBe(false); // a bucket name is 3+ characters
    expect(parse({ bucket: "bkt", key: "k" })).toBe(true);
    expect(parse({ bucket: "bkt", prefix: "p/" })).toBe(true);
    expect(parse({ bucket: "bkt", prefix: "p" })).toBe(false);
    expect(parse({ bucket: "bkt", key: "k/" })).toBe(false);
    expect(parse({ bucket: "bkt", endpoint: "s3.local", key: "k" })).toBe(false);
  });

  it.skipIf(!existsSync(python))("is accepted by the trainer's own spec parser", () => {
    const code =
      "import json,sys\nfrom dataclasses import asdict\nfrom churn_trainer.spec import parse_spec\n" +
      "s = parse_spec(json.load(sys.stdin))\nprint(json.dumps(asdict(s), default=str))";
    const r = spawnSync(python, ["-c", code], { input: JSON.stringify(file), encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const parsed = JSON.parse(r.stdout);
    expect(parsed.schema.target.column).toBe("Exited");
    expect(parsed.gates.minRocAuc).toBe(0.86);
  });

  it("accepts, field for field, the trainer's own example spec", () => {
    const trainerExample = parse(
      readFileSync(join(root, "trainer", "examples", "bank-churn.yaml"), "utf8"),
    ) as Record<string, unknown>;
    const { dataset: _location, ...rest } = trainerExample;
    const parsed = trainingRunSpecSchema.safeParse({
      ...rest,
      dataset: { url: "https://x/y.csv" },
    });
    expect(parsed.success ? "ok" : parsed.error.message).toBe("ok");
    // zod strips unknown keys: equality proves every trainer field is known to the CRD.
    expect(trainerSpecFile(parsed.data as never)).toEqual(rest);
  });
});
