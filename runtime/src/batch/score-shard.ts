// One shard of a batch scoring run: its rows stream from the input in batches through the
// model service (the same validator, graph, batcher and SHAP code as POST /v1/score, so a
// customer gets the same probability offline and online, to the bit), into its own part file
// and rejects file, both published atomically at the end.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ModelCard } from "../artifact/model-card.js";
import type { ModelService } from "../model/model-service.js";
import { instanceShape } from "../validation/request-rules.js";
import { compileValidator } from "../validation/shape-validator.js";
import type { BatchConfig } from "./batch-config.js";
import { outputColumns, outputSchema } from "./output-columns.js";
import {
  type BatchFileWriter,
  csvFileWriter,
  parquetFileWriter,
  uploadedOnCommit,
} from "./part-writer.js";
import { shardBatches } from "./row-source.js";
import {
  isS3Location,
  parseS3Location,
  S3ObjectStore,
  s3AccessFromEnv,
} from "./s3-object-store.js";
import { rejectLimitBroken, type ShardSummary } from "./shard-summary.js";
import type { SourceBatch } from "./source-batch.js";

/** Raised when a shard cannot run at all (no id column, ...). */
export class BatchSetupError extends Error {
  override readonly name = "BatchSetupError";
}

/** Names of a shard's files in the output directory. */
export function shardFileNames(index: number, format: "parquet" | "csv") {
  return { part: `part-${index}.${format}`, rejects: `rejects-${index}.csv` };
}

/** A batch's rows split into those the model takes and rejects (position, id, reason). */
function screen(
  batch: SourceBatch,
  validator: ReturnType<typeof compileValidator<Record<string, unknown>>>,
) {
  const rejects: unknown[][] = [];
  const keep: number[] = [];
  for (let i = 0; i < batch.length; i++) {
    const row = batch.rows[i] as Record<string, unknown>;
    const problem = batch.problems.get(i);
    if (problem !== undefined) {
      rejects.push([batch.position(i), batch.ids[i], problem]);
    } else if (validator.accepts(row)) {
      keep.push(i);
    } else {
      const reason = validator
        .errors(row, 3)
        .map((e) => `${e.field}: ${e.message}`)
        .join("; ");
      rejects.push([batch.position(i), batch.ids[i], reason]);
    }
  }
  // Most batches reject nothing: their arrays are taken as they are.
  if (rejects.length === 0) return { rows: batch.rows, ids: batch.ids, rejects };
  return {
    rows: keep.map((i) => batch.rows[i] as Record<string, unknown>),
    ids: keep.map((i) => batch.ids[i]),
    rejects,
  };
}

async function openWriters(cfg: BatchConfig, idColumn: string) {
  const names = shardFileNames(cfg.index, cfg.outputFormat);
  const schema = outputSchema(idColumn, cfg.explainTopK);
  // An S3 output is written to local scratch space, then uploaded whole (uploadedOnCommit).
  const s3 = isS3Location(cfg.output) ? s3Output(cfg) : undefined;
  const dir = s3 ? await mkdtemp(join(tmpdir(), `churn-batch-${cfg.index}-`)) : cfg.output;
  const part =
    cfg.outputFormat === "parquet"
      ? await parquetFileWriter(dir, names.part, schema)
      : await csvFileWriter(
          dir,
          names.part,
          schema.map((c) => c.name),
        );
  const rejects = await csvFileWriter(dir, names.rejects, ["position", idColumn, "reason"]);
  if (!s3) return { part, rejects };
  const at = (file: string) => ({ bucket: s3.prefix.bucket, key: `${s3.prefix.key}${file}` });
  return {
    part: uploadedOnCommit(part, s3.store, at(names.part)),
    rejects: uploadedOnCommit(rejects, s3.store, at(names.rejects)),
  };
}

/**
 * The S3 output prefix and its store: each CHURN_OUTPUT_* setting (the operator's for an
 * output in another store, with other keys, than the input's) else its AWS_* one.
 */
function s3Output(cfg: BatchConfig) {
  const own = s3AccessFromEnv(process.env, "CHURN_OUTPUT_");
  const aws = s3AccessFromEnv(process.env);
  const access = {
    endpoint: own.endpoint ?? aws.endpoint,
    region: process.env.CHURN_OUTPUT_REGION ? own.region : aws.region,
    accessKeyId: own.accessKeyId ?? aws.accessKeyId,
    secretAccessKey: own.secretAccessKey ?? aws.secretAccessKey,
  };
  const prefix = parseS3Location(cfg.output.endsWith("/") ? cfg.output : `${cfg.output}/`);
  return { store: new S3ObjectStore(access), prefix };
}

const asColumns = (names: readonly string[], rows: readonly unknown[][]) =>
  names.map((name, j) => ({ name, type: "STRING" as const, data: rows.map((r) => r[j]) }));

/** Scores shard `cfg.index` with a ready model service; returns its summary. */
export async function scoreShard(
  cfg: BatchConfig,
  card: ModelCard,
  model: ModelService,
): Promise<ShardSummary> {
  const idColumn = cfg.idColumn ?? card.schema.idColumn ?? undefined;
  if (!idColumn)
    throw new BatchSetupError("no id column: set --id-column (the model's schema names none)");
  const shape = instanceShape(card);
  const fields = shape.fields.map((f) => f.name);
  const validator = compileValidator<Record<string, unknown>>(shape);
  const writers: BatchFileWriter[] = [];
  const summary: ShardSummary = { index: cfg.index, read: 0, scored: 0, rejected: 0 };
  try {
    const { part, rejects } = await openWriters(cfg, idColumn);
    writers.push(part, rejects);
    const input = { ...cfg, location: cfg.input, format: cfg.inputFormat, fields, idColumn };
    const listed = (digest: string) => {
      summary.inputListing = digest;
    };
    for await (const batch of shardBatches(input, card, listed)) {
      const s = screen(batch, validator);
      summary.read += batch.length;
      summary.rejected += s.rejects.length;
      if (s.rejects.length > 0) {
        await rejects.write(asColumns(["position", idColumn, "reason"], s.rejects));
      }
      if (s.rows.length === 0) continue;
      const predictions = await model.predict(s.rows, cfg.explainTopK > 0, "batch");
      await part.write(outputColumns(idColumn, cfg.explainTopK, s.ids, predictions));
      summary.scored += predictions.length;
    }
    summary.error = rejectLimitBroken(summary, {
      maxRows: cfg.maxRejectedRows,
      maxPercent: cfg.maxRejectedPercent,
    });
    // Over the limit, the rejects say why and no part is published.
    await rejects.commit();
    if (summary.error) await part.abort();
    else await part.commit();
    return summary;
  } catch (err) {
    await Promise.all(writers.map((w) => w.abort()));
    throw err;
  }
}
