// Process entry for `churn-runtime batch`: load and self-check the model exactly as `serve`
// does, score one shard, report its counts, and exit with a code the Job's pod failure policy
// understands (BatchExit).
import { writeFile } from "node:fs/promises";
import { ArtifactError, loadArtifact } from "../artifact/artifact.js";
import type { Logger } from "../logger.js";
import { RuntimeMetrics } from "../metrics.js";
import { ModelService } from "../model/model-service.js";
import type { BatchConfig } from "./batch-config.js";
import { InputError } from "./byte-source.js";
import { S3Error } from "./s3-object-store.js";
import { BatchSetupError, scoreShard } from "./score-shard.js";
import { BatchExit, type ShardSummary } from "./shard-summary.js";

async function report(cfg: BatchConfig, summary: ShardSummary, log: Logger): Promise<void> {
  if (cfg.summaryFile) await writeFile(cfg.summaryFile, JSON.stringify(summary));
  if (summary.error) log.error("shard failed", { ...summary });
  else log.info("shard scored", { ...summary });
}

/** Scores one shard; resolves with the exit code. */
export async function batchMain(cfg: BatchConfig, log: Logger): Promise<number> {
  const model = new ModelService(
    {
      explainWorkers: cfg.explainWorkers,
      intraOpThreads: cfg.intraOpThreads,
      driftWindow: 1000,
      topDrivers: Math.max(1, cfg.explainTopK),
      decisionThreshold: cfg.decisionThreshold,
    },
    new RuntimeMetrics({ processMetrics: false }),
    log,
  );
  const failed = (error: string, code: number, s3Problem?: S3Error["problem"]) => {
    const summary = { index: cfg.index, read: 0, scored: 0, rejected: 0, error };
    return report(cfg, s3Problem ? { ...summary, s3Problem } : summary, log).then(() => code);
  };
  try {
    const artifact = await loadArtifact(cfg.modelDir, cfg.expectedDigest);
    await model.start(artifact);
    if (model.status !== "ready") return await failed(model.reason, BatchExit.unusable);
    const summary = await scoreShard(cfg, artifact.card, model);
    await report(cfg, summary, log);
    return summary.error ? BatchExit.tooManyRejects : BatchExit.ok;
  } catch (err) {
    // S3 keys refused or an object missing will not change on a retry; an unreachable store may.
    const refused = err instanceof S3Error && err.problem !== "unavailable";
    const unusable =
      err instanceof ArtifactError ||
      err instanceof InputError ||
      err instanceof BatchSetupError ||
      refused;
    // Anything else (a full disk, a crash in a dependency) may pass on a retry of the index.
    const code = unusable ? BatchExit.unusable : 1;
    return await failed(
      (err as Error).message,
      code,
      err instanceof S3Error ? err.problem : undefined,
    );
  } finally {
    await model.close();
  }
}
