// `churn-runtime`: the command-line front of the inference server (`serve`), of the traffic
// router (`route`) and of batch scoring (`batch`, one shard of a ScoringRun's Indexed Job).
import { parseArgs } from "node:util";
import { BATCH_SETTINGS, type BatchSettingName, resolveBatchConfig } from "./batch/batch-config.js";
import { ConfigError, resolveConfig, SETTINGS, type SettingName } from "./config.js";
import { main } from "./main.js";
import {
  ROUTE_SETTINGS,
  type RouteSettingName,
  resolveRouteConfig,
} from "./router/route-config.js";

type Setting = { flag: string; env: string; default: string | number | undefined };
const describeSettings = (settings: Record<string, Setting>) =>
  Object.values(settings)
    .map(
      (s) =>
        `  --${s.flag.padEnd(24)} ${s.env}${s.default !== undefined ? ` (default ${s.default})` : ""}`,
    )
    .join("\n");

const USAGE = `usage: churn-runtime serve --model-dir DIR [--port N] [options]
       churn-runtime route (--namespace NS --traffic-config-map NAME | --traffic-file PATH) [--port N] [options]
       churn-runtime batch --model-dir DIR --input FILE|URL --output DIR [--shards N --index I] [options]

serve: serves one churn model artifact over HTTP (scoring, SHAP explanations, Prometheus metrics).

options (each also read from the environment variable shown):
${describeSettings(SETTINGS)}
  --help

route: splits /v1 and /v2 traffic between a stable and a canary model by exact weight, sticky
per customer, and mirrors score requests to the canary to compare (the traffic router a
ChurnModel's rollout runs).

options (each also read from the environment variable shown):
${describeSettings(ROUTE_SETTINGS)}

batch: scores shard --index of --shards of a CSV or Parquet file with the same validation, graph
and SHAP code as serve, into part-<index>.parquet (or .csv) and rejects-<index>.csv in --output,
each written to a temporary name and renamed when complete; exits 2 when the model or input is
unusable, 3 when more rows are rejected than allowed.

options (each also read from the environment variable shown):
${describeSettings(BATCH_SETTINGS)}`;

/** Reads a table of settings' flags from parsed options. */
function flagsOf<N extends string>(
  settings: Record<N, Setting>,
  values: Record<string, unknown>,
): Partial<Record<N, string>> {
  const flags: Partial<Record<N, string>> = {};
  for (const [name, s] of Object.entries(settings) as [N, Setting][]) {
    const v = values[s.flag];
    if (typeof v === "string") flags[name] = v;
  }
  return flags;
}

/** A subcommand with its own settings table: parse its flags, resolve them, run it. */
async function subcommand<N extends string, C>(
  name: string,
  argv: string[],
  settings: Record<N, Setting>,
  resolve: (flags: Partial<Record<N, string>>) => C,
  start: (config: C) => Promise<number>,
): Promise<number> {
  const options = Object.fromEntries(
    Object.values<Setting>(settings).map((s) => [s.flag, { type: "string" as const }]),
  );
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args: argv, options: { ...options, help: { type: "boolean" } } }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`);
    return 64;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let config: C;
  try {
    config = resolve(flagsOf<N>(settings, values));
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`churn-runtime ${name}: ${err.message}\n`);
      return 64;
    }
    throw err;
  }
  return start(config);
}

/** `churn-runtime route ...`: the router until a termination signal. */
function route(argv: string[]): Promise<number> {
  return subcommand<RouteSettingName, ReturnType<typeof resolveRouteConfig>>(
    "route",
    argv,
    ROUTE_SETTINGS,
    (flags) => resolveRouteConfig(flags),
    async (config) => {
      // Loaded only in route mode: `serve` never pays for the Kubernetes client.
      const { routeMain } = await import("./router/route-main.js");
      return routeMain(config);
    },
  );
}

/** `churn-runtime batch ...`: score one shard, then exit. */
function batch(argv: string[]): Promise<number> {
  return subcommand<BatchSettingName, ReturnType<typeof resolveBatchConfig>>(
    "batch",
    argv,
    BATCH_SETTINGS,
    (flags) => resolveBatchConfig(flags),
    async (config) => {
      const [{ batchMain }, { createLogger }] = await Promise.all([
        import("./batch/batch-main.js"),
        import("./logger.js"),
      ]);
      return batchMain(config, createLogger(config.logLevel, undefined, {}, "churn-batch"));
    },
  );
}

/** Parses argv and runs the command; resolves with the exit code. */
export async function run(argv: string[]): Promise<number> {
  if (argv[0] === "route") return route(argv.slice(1));
  if (argv[0] === "batch") return batch(argv.slice(1));
  const options = Object.fromEntries(
    Object.values(SETTINGS).map((s) => [s.flag, { type: "string" as const }]),
  );
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...options, help: { type: "boolean" } },
      allowPositionals: true,
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`);
    return 64;
  }
  const [command, ...rest] = parsed.positionals;
  if (parsed.values.help || command === undefined || command === "help") {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined && !parsed.values.help ? 64 : 0;
  }
  if (command !== "serve" || rest.length > 0) {
    process.stderr.write(
      `unknown command ${JSON.stringify([command, ...rest].join(" "))}\n\n${USAGE}\n`,
    );
    return 64;
  }
  try {
    return await main(resolveConfig(flagsOf<SettingName>(SETTINGS, parsed.values)));
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`churn-runtime: ${err.message}\n`);
      return 64;
    }
    throw err;
  }
}

// Run when executed directly (node dist/runtime/src/cli.js or tsx runtime/src/cli.ts).
const invoked = process.argv[1] ?? "";
if (/[\\/]cli\.(js|ts)$/.test(invoked)) {
  run(process.argv.slice(2)).then((code) => process.exit(code));
}
