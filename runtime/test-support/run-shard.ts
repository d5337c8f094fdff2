import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type BatchSettingName, resolveBatchConfig } from "../src/batch/batch-config.js";
import { batchMain } from "../src/batch/batch-main.js";
import type { ShardSummary } from "../src/batch/shard-summary.js";
import { createLogger } from "../src/logger.js";

/**
 * Runs one `churn-runtime batch` shard in-process on `modelDir` (its summary file in `work`);
 * resolves with its exit code and summary.
 */
export async function runShard(
  modelDir: string,
  work: string,
  flags: Partial<Record<BatchSettingName, string>>,
): Promise<{ code: number; summary: ShardSummary }> {
  const summaryFile = join(work, `summary-${Math.random()}.json`);
  const cfg = resolveBatchConfig({ modelDir, summaryFile, ...flags }, {});
  const code = await batchMain(cfg, createLogger("silent"));
  return { code, summary: JSON.parse(readFileSync(summaryFile, "utf8")) as ShardSummary };
}
