#!/usr/bin/env node
// The package's `kubectl-churn` command: the kubectl plugin `kubectl churn`, found by kubectl on
// PATH (`npm i -g .` or `npm link` puts it there). Runs the compiled plugin (build with
// `node scripts/setup.mjs` or `npm run build`).
import { runBuilt } from "./run-built.js";

await runBuilt("kubectl churn", "../dist/operator/src/plugin/main.js");
