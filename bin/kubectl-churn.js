#!/usr/bin/env node
// The package's `kubectl-churn` command: the kubectl plugin `kubectl churn`, found by kubectl on
// PATH (`npm i -g .` or `npm link` puts it there). Runs the compiled plugin (build with
// `node scripts/setup.mjs` or `npm run build`).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const main = new URL("../dist/operator/src/plugin/main.js", import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write(
    "kubectl churn: dist/ is missing; run `node scripts/setup.mjs` (or `npm run build`) first\n",
  );
  process.exit(70);
}
const { run } = await import(main.href);
process.exit(await run(process.argv.slice(2)));
