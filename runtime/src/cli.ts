// `churn-runtime`: the command-line front of the inference server (`serve`) and of the traffic
// router (`route`).
import { parseArgs } from "node:util";
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

serve: serves one churn model artifact over HTTP (scoring, SHAP explanations, Prometheus metrics).

options (each also read from the environment variable shown):
${describeSettings(SETTINGS)}
  --help

route: splits /v1 and /v2 traffic between a stable and a canary model by exact weight, sticky
per customer, and mirrors score requests to the canary to compare (the traffic router a
ChurnModel's rollout runs).

options (each also read from the environment variable shown):
${describeSettings(ROUTE_SETTINGS)}`;

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

/** `churn-runtime route ...`: its own flags, then the router until a termination signal. */
async function route(argv: string[]): Promise<number> {
  const options = Object.fromEntries(
    Object.values(ROUTE_SETTINGS).map((s) => [s.flag, { type: "string" as const }]),
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
  let config: ReturnType<typeof resolveRouteConfig>;
  try {
    config = resolveRouteConfig(flagsOf<RouteSettingName>(ROUTE_SETTINGS, values));
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`churn-runtime route: ${err.message}\n`);
      return 64;
    }
    throw err;
  }
  // Loaded only in route mode: `serve` never pays for the Kubernetes client.
  const { routeMain } = await import("./router/route-main.js");
  return routeMain(config);
}

/** Parses argv and runs the command; resolves with the exit code. */
export async function run(argv: string[]): Promise<number> {
  if (argv[0] === "route") return route(argv.slice(1));
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
