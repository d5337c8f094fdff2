// What both of the package's commands do: run a compiled entry point's `run(argv)` and exit with
// its status, or say that dist/ has not been built yet (exit 70, EX_SOFTWARE).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Runs `run(argv)` of the compiled module at `entry` (relative to bin/) as command `name`. */
export async function runBuilt(name, entry) {
  const module = new URL(entry, import.meta.url);
  if (!existsSync(fileURLToPath(module))) {
    process.stderr.write(
      `${name}: dist/ is missing; run \`node scripts/setup.mjs\` (or \`npm run build\`) first\n`,
    );
    process.exit(70);
  }
  const { run } = await import(module.href);
  process.exit(await run(process.argv.slice(2)));
}
