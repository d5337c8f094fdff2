// Test fixture: a real artifact written by the trainer CLI on synthetic data. Cached under
// runtime/test-fixtures/ by a hash of the trainer's sources, so it retrains only when they
// change; a lock directory keeps parallel test files from training twice.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import type { Reference } from "../src/artifact/artifact.js";
import type { ModelCard } from "../src/artifact/model-card.js";

/** The repository root. */
export const repoRoot = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const fixtures = join(repoRoot, "runtime", "test-fixtures");
const python = join(repoRoot, ".venv", "bin", "python");
const examples = join(repoRoot, "trainer", "examples");

/** Which model a fixture trains: an example spec (with edits) on synthetic data of a shape. */
export interface FixtureVariant {
  /** Names the fixture's directory; "" is the default bank model. */
  name: string;
  spec: string;
  shape: "bank" | "telecom";
  /** Changes to the example spec, e.g. another calibration. */
  edit?: (spec: Record<string, unknown>) => void;
}

/** The bank example (sigmoid-calibrated), which most runtime tests serve. */
export const BANK: FixtureVariant = {
  name: "",
  spec: join(examples, "bank-churn.yaml"),
  shape: "bank",
};
/** The bank example with isotonic calibration (a piecewise-linear map after the trees). */
export const BANK_ISOTONIC: FixtureVariant = {
  ...BANK,
  name: "isotonic",
  edit: (s) => {
    s.calibration = { method: "isotonic" };
  },
};
/** The telecom example: Yes/No labels and booleans, an imputed category, semicolons. */
export const TELECOM: FixtureVariant = {
  name: "telecom",
  spec: join(examples, "telecom-churn.yaml"),
  shape: "telecom",
};

/** A trained fixture: the artifact directory and the synthetic data it was trained on. */
export interface TrainedArtifact {
  modelDir: string;
  dataCsv: string;
  digest: string;
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory())
      return e.name === "__pycache__" || e.name.endsWith(".egg-info") ? [] : listFiles(p);
    return [p];
  });
}

/** Hash of everything that can change the trained artifacts. */
function trainerHash(): string {
  const h = createHash("sha256");
  const files = [
    ...listFiles(join(repoRoot, "trainer", "src")).filter((f) => f.endsWith(".py")),
    join(repoRoot, "trainer", "pyproject.toml"),
    join(repoRoot, "trainer", "requirements.lock"),
    ...listFiles(examples),
  ].sort();
  for (const f of files) {
    h.update(relative(repoRoot, f));
    h.update(existsSync(f) ? readFileSync(f) : "");
  }
  return h.digest("hex").slice(0, 16);
}

function findArtifact(store: string): string {
  const dirs = readdirSync(store).filter((d) => /^[0-9a-f]{64}$/.test(d));
  if (dirs.length !== 1) throw new Error(`expected one artifact in ${store}, found ${dirs.length}`);
  return join(store, dirs[0] as string);
}

/**
 * The example spec without its metric gates: gates decide pass or fail, never the artifact's
 * bytes, and the runtime's tests must not break when a trainer change moves a metric on the
 * small synthetic set.
 */
function fixtureSpec(dir: string, variant: FixtureVariant): string {
  const example = parse(readFileSync(variant.spec, "utf8")) as Record<string, unknown>;
  delete example.gates;
  variant.edit?.(example);
  const path = join(dir, "spec.yaml");
  writeFileSync(path, stringify(example));
  return path;
}

function train(dir: string, variant: FixtureVariant): void {
  const data = join(dir, "data.csv");
  const run = (args: string[]) =>
    execFileSync(python, ["-m", "churn_trainer", ...args], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 600_000,
    });
  try {
    run(["synth", "--rows", "3000", "--seed", "7", "--shape", variant.shape, "--output", data]);
    run([
      "train",
      "--spec",
      fixtureSpec(dir, variant),
      "--data",
      data,
      "--output",
      join(dir, "store"),
    ]);
  } catch (err) {
    const e = err as { stderr?: Buffer; stdout?: Buffer; message: string };
    throw new Error(
      `the trainer could not build the runtime test fixture: ${e.message}\n${e.stdout?.toString() ?? ""}\n${e.stderr?.toString() ?? ""}`,
    );
  }
}

/** Blocks until `check` holds or the deadline passes (Atomics.wait: no busy loop). */
function waitFor(check: () => boolean, timeoutMs: number, what: string): void {
  const deadline = Date.now() + timeoutMs;
  const cell = new Int32Array(new SharedArrayBuffer(4));
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    Atomics.wait(cell, 0, 0, 200);
  }
}

const cached = new Map<string, TrainedArtifact>();

/** The trainer's interpreter and example spec, without which no fixture can be trained. */
function checkTrainerPresent(): void {
  if (!existsSync(python))
    throw new Error(`${python} is missing; run node scripts/setup.mjs first`);
  if (!existsSync(BANK.spec))
    throw new Error(`${BANK.spec} is missing: the trainer's example spec is needed`);
}

/**
 * Takes the training lock: "owner" when this process got it, "busy" while another process
 * trains, "stale" when a lock older than the training timeout was removed (try again).
 */
function takeLock(lock: string): "owner" | "busy" | "stale" {
  try {
    mkdirSync(lock);
    return "owner";
  } catch {
    // Another test process is training; a lock older than the training timeout is stale.
    if (Date.now() - statSync(lock).mtimeMs > 11 * 60_000) {
      rmSync(lock, { recursive: true, force: true });
      return "stale";
    }
    return "busy";
  }
}

/** Removes fixtures of older trainer sources (dead weight once a new one exists). */
function pruneOldFixtures(hash: string): void {
  for (const old of readdirSync(fixtures)) {
    const path = join(fixtures, old);
    if (!old.startsWith(hash) && !old.endsWith(".lock") && !existsSync(`${path}.lock`)) {
      rmSync(path, { recursive: true, force: true });
    }
  }
}

/** Trains a fresh fixture into `dir`, marks it done and releases the lock, even on failure. */
function trainFixture(dir: string, variant: FixtureVariant, hash: string): void {
  const lock = `${dir}.lock`;
  try {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    train(dir, variant);
    const modelDir = findArtifact(join(dir, "store"));
    writeFileSync(join(dir, "done.json"), JSON.stringify({ modelDir }));
    pruneOldFixtures(hash);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Waits for the process holding the lock to finish training; fails if it gave up. */
function awaitOtherTrainer(done: string, lock: string): void {
  waitFor(() => existsSync(done) || !existsSync(lock), 11 * 60_000, "the runtime fixture");
  if (!existsSync(done))
    throw new Error("another test process failed to train the runtime fixture");
}

/** Returns the trained fixture, training it first if the trainer's sources changed. */
export function trainedArtifact(variant: FixtureVariant = BANK): TrainedArtifact {
  const known = cached.get(variant.name);
  if (known) return known;
  checkTrainerPresent();
  const hash = trainerHash();
  const dir = join(fixtures, variant.name ? `${hash}-${variant.name}` : hash);
  const done = join(dir, "done.json");
  const lock = `${dir}.lock`;
  mkdirSync(fixtures, { recursive: true });
  if (!existsSync(done)) {
    const lockState = takeLock(lock);
    if (lockState === "stale") return trainedArtifact(variant);
    if (lockState === "owner") trainFixture(dir, variant, hash);
    else awaitOtherTrainer(done, lock);
  }
  const { modelDir } = JSON.parse(readFileSync(done, "utf8")) as { modelDir: string };
  const artifact = {
    modelDir,
    dataCsv: join(dir, "data.csv"),
    digest: JSON.parse(readFileSync(join(modelDir, "model.json"), "utf8")).digest,
  };
  cached.set(variant.name, artifact);
  return artifact;
}

/** A fixture's model card and reference.json, read as the tests see them. */
export interface FixtureModel {
  card: ModelCard;
  reference: Reference;
  /** reference.json's rows with every raw feature present (a typed tensor cannot hold a gap). */
  completeRows: Reference["rows"];
}

/** Reads a trained fixture's model.json and reference.json. */
export function fixtureModel(fixture: TrainedArtifact): FixtureModel {
  const card = JSON.parse(readFileSync(join(fixture.modelDir, "model.json"), "utf8")) as ModelCard;
  const reference = JSON.parse(
    readFileSync(join(fixture.modelDir, "reference.json"), "utf8"),
  ) as Reference;
  const completeRows = reference.rows.filter((r) =>
    card.features.raw.every((c) => r[c] !== null && r[c] !== undefined),
  );
  return { card, reference, completeRows };
}
