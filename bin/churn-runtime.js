#!/usr/bin/env node
// The package's `churn-runtime` command: runs the compiled CLI (build with `node scripts/setup.mjs`).
import { runBuilt } from "./run-built.js";

await runBuilt("churn-runtime", "../dist/runtime/src/cli.js");
