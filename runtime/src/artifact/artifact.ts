// Loads a model artifact directory (docs/artifact.md) and checks its identity: the sha256 of
// model.onnx must match the directory name, the model card and any digest the operator pinned.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { z } from "zod";
import { type Baseline, baselineSchema } from "./baseline.js";
import { type ModelCard, parseModelCard } from "./model-card.js";

/** reference.json: probe rows with the trainer's outputs. */
export const referenceSchema = z.looseObject({
  rows: z.array(z.record(z.string(), z.unknown())).min(1),
  probabilities: z.array(z.number()),
  contributions: z.array(z.array(z.number())),
  margins: z.array(z.number()),
});
export type Reference = z.infer<typeof referenceSchema>;

/** Everything read from one artifact directory. */
export interface Artifact {
  dir: string;
  digest: string;
  modelBytes: Uint8Array;
  card: ModelCard;
  reference: Reference;
  baseline: Baseline | undefined;
}

/** Raised when the artifact is missing, malformed, or not the one expected. */
export class ArtifactError extends Error {
  override readonly name = "ArtifactError";
}

/** Raised when model.onnx does not hash to the expected digest: the server must not start. */
export class DigestMismatchError extends ArtifactError {}

async function readJson(dir: string, file: string): Promise<unknown> {
  const path = join(dir, file);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new ArtifactError(`cannot read ${file} in ${dir}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ArtifactError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}

function parsed<T>(schema: z.ZodType<T>, value: unknown, file: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const details = r.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
    .join("; ");
  throw new ArtifactError(`${file} does not follow the artifact contract: ${details}`);
}

/** Hashes model.onnx only: cheap enough to run before the server starts listening. */
export async function modelDigest(dir: string): Promise<{ digest: string; bytes: Uint8Array }> {
  const path = join(dir, "model.onnx");
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new ArtifactError(`cannot read model.onnx in ${dir}: ${(err as Error).message}`);
  }
  return { digest: createHash("sha256").update(bytes).digest("hex"), bytes };
}

/** Reads and cross-checks the artifact; throws DigestMismatchError when `expectedDigest` differs. */
export async function loadArtifact(modelDir: string, expectedDigest?: string): Promise<Artifact> {
  const dir = resolve(modelDir);
  if (!existsSync(dir)) throw new ArtifactError(`model directory ${dir} does not exist`);
  const { digest, bytes } = await modelDigest(dir);
  if (expectedDigest && expectedDigest.toLowerCase() !== digest) {
    throw new DigestMismatchError(
      `model.onnx has sha256 ${digest}, but the expected digest is ${expectedDigest.toLowerCase()}`,
    );
  }
  const name = basename(dir);
  if (/^[0-9a-f]{64}$/.test(name) && name !== digest) {
    throw new DigestMismatchError(
      `model.onnx has sha256 ${digest}, but its directory is named ${name}`,
    );
  }
  let card: ModelCard;
  try {
    card = parseModelCard(await readJson(dir, "model.json"));
  } catch (err) {
    throw err instanceof ArtifactError ? err : new ArtifactError((err as Error).message);
  }
  if (card.digest !== digest) {
    throw new DigestMismatchError(
      `model.json names digest ${card.digest}, but model.onnx has sha256 ${digest}`,
    );
  }
  const reference = parsed(
    referenceSchema,
    await readJson(dir, "reference.json"),
    "reference.json",
  );
  const n = reference.rows.length;
  if (
    reference.probabilities.length !== n ||
    reference.contributions.length !== n ||
    reference.margins.length !== n
  ) {
    throw new ArtifactError(
      "reference.json rows, probabilities, contributions and margins differ in length",
    );
  }
  const baseline = existsSync(join(dir, "baseline.json"))
    ? parsed(baselineSchema, await readJson(dir, "baseline.json"), "baseline.json")
    : undefined;
  return { dir, digest, modelBytes: bytes, card, reference, baseline };
}
