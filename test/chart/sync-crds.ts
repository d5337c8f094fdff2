import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chartDir, repoRoot } from "./render-chart.js";

/** The generated CRDs (source of truth) and the chart's copies helm installs. */
export const crdDirs = { source: join(repoRoot, "crds"), chart: join(chartDir, "crds") };

const yamlFiles = (dir: string) =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => /\.ya?ml$/.test(f))
        .sort()
    : [];

/** Files whose chart copy is missing, stale or extra; empty when the chart is in sync. */
export function crdDrift(): string[] {
  const source = yamlFiles(crdDirs.source);
  const chart = yamlFiles(crdDirs.chart);
  const drift = source.filter(
    (f) =>
      !chart.includes(f) ||
      !readFileSync(join(crdDirs.source, f)).equals(readFileSync(join(crdDirs.chart, f))),
  );
  return [...drift, ...chart.filter((f) => !source.includes(f))];
}

// `npx tsx test/chart/sync-crds.ts [--check]`: copy crds/*.yaml into the chart, or only report.
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const drift = crdDrift();
  if (process.argv.includes("--check")) {
    if (drift.length > 0) {
      process.stderr.write(`chart CRDs out of date: ${drift.join(", ")}\n`);
      process.exit(1);
    }
  } else {
    for (const f of drift) {
      const from = join(crdDirs.source, f);
      if (existsSync(from)) copyFileSync(from, join(crdDirs.chart, f));
      else rmSync(join(crdDirs.chart, f));
    }
    process.stdout.write(
      `chart CRDs: ${drift.length ? `synced ${drift.join(", ")}` : "in sync"}\n`,
    );
  }
}
