import { pathToFileURL } from "node:url";
import { GO_BUILDS } from "../../cluster/build-cache.mjs";
import { ensureGoBinary } from "../../cluster/go-binary.js";

/** Prometheus's Go module version (pinned in cluster/build-cache.mjs). */
export const PROMETHEUS_MODULE_VERSION = GO_BUILDS.promtool;

/** Path of the pinned promtool (`check rules`, `test rules`), built on first use and cached. */
export function ensurePromtool(): Promise<string> {
  return ensureGoBinary({
    name: "promtool",
    module: "github.com/prometheus/prometheus",
    pkg: "cmd/promtool",
    version: PROMETHEUS_MODULE_VERSION,
    ldflags: () => "-s -w",
  });
}

// `npx tsx test/chart/promtool-binary.ts`: build (or reuse) promtool and print its path.
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.stdout.write(`${await ensurePromtool()}\n`);
}
