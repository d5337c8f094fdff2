import { pathToFileURL } from "node:url";
import { ensureGoBinary, type GoBinary } from "../../cluster/go-binary.js";
import { PROMETHEUS_MODULE_VERSION } from "./promtool-binary.js";

/**
 * The release a Go module version stands for: Prometheus 3.x is tagged v0.3MM.P for Go,
 * so v0.316.0 is 3.16.0 (what `prometheus --version` and the build_info metric report).
 */
export function prometheusReleaseOf(moduleVersion: string): string {
  const m = /^v0\.(\d)(\d\d)\.(\d+)$/.exec(moduleVersion);
  if (!m) throw new Error(`not a Prometheus 3.x Go module version: ${moduleVersion}`);
  return `${m[1]}.${Number(m[2])}.${m[3]}`;
}

const prometheusBinary: GoBinary = {
  name: "prometheus",
  module: "github.com/prometheus/prometheus",
  pkg: "cmd/prometheus",
  // The same pin as promtool: the rules promtool checks are the rules this server runs.
  version: PROMETHEUS_MODULE_VERSION,
  ldflags: () =>
    [
      "-s",
      "-w",
      `-X github.com/prometheus/common/version.Version=${prometheusReleaseOf(PROMETHEUS_MODULE_VERSION)}`,
    ].join(" "),
};

/**
 * Path of the pinned Prometheus server, built from the Go module proxy on first use and cached
 * (a cold build takes minutes; the Go runner logs progress). Without the `builtinassets` tag
 * the web UI is not embedded: the HTTP API and `/-/ready`, all the tests use, are.
 */
export function ensurePrometheus(): Promise<string> {
  return ensureGoBinary(prometheusBinary);
}

// `npx tsx test/chart/prometheus-binary.ts`: build (or reuse) prometheus and print its path.
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.stdout.write(`${await ensurePrometheus()}\n`);
}
