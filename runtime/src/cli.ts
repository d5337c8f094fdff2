// `churn-runtime`: the command-line front of the inference server.
import { parseArgs } from "node:util";
import { ConfigError, resolveConfig, SETTINGS, type SettingName } from "./config.js";
import { main } from "./main.js";

const USAGE = `usage: churn-runtime serve --model-dir DIR [--port N] [options]

Serves one churn model artifact over HTTP (scoring, SHAP explanations, Prometheus metrics).

options (each also read from the environment variable shown):
${Object.values(SETTINGS)
  .map(
    (s) =>
      `  --${s.flag.padEnd(24)} ${s.env}${s.default !== undefined ? ` (default ${s.default})` : ""}`,
  )
  .join("\n")}
  --help`;

/** Parses argv and runs the command; resolves with the exit code. */
export async function run(argv: string[]): Promise<number> {
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
  const flags: Partial<Record<SettingName, string>> = {};
  for (const [name, s] of Object.entries(SETTINGS) as [
    SettingName,
    (typeof SETTINGS)[SettingName],
  ][]) {
    const v = parsed.values[s.flag];
    if (typeof v === "string") flags[name] = v;
  }
  try {
    return await main(resolveConfig(flags));
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
