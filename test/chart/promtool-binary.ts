import { pathToFileURL } from "node:url";
import { ensureGoBinary } from "../../cluster/go-binary.js";

/** Prometheus's Go module version (its 3.x releases are tagged v0.3xx.y for Go). */
export const PROMETHEUS_MODULE_VERSION = "v0.316.0";

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
