#!/usr/bin/env node
// The package's `churn-runtime` command: runs the compiled CLI (build with `node scripts/setup.mjs`).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const cli = new URL("../dist/runtime/src/cli.js", import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write(
    "churn-runtime: dist/ is missing; run `node scripts/setup.mjs` (or `npm run build`) first\n",
  );
  process.exit(70);
}
const { run } = await import(cli.href);
process.exit(await run(process.argv.slice(2)));
