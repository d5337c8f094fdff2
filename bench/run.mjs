#!/usr/bin/env node
// `npm run bench [-- trainer|runtime|router|rollout|batch]`: every benchmark (or the named ones), each printing
// its ratios against the baselines it measures in the same run. Not part of `npm test`.
// Options after the name go to that benchmark: `npm run bench:runtime -- --seconds 3`;
// `--help` after a name shows that benchmark's options.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { root, setup, venvPython } from "../scripts/setup.mjs";

const benches = {
  trainer: [venvPython, [join(root, "bench", "trainer", "run.py")]],
  runtime: [process.execPath, [join(root, "bench", "runtime", "run.mjs")]],
  router: [process.execPath, [join(root, "bench", "router", "run.mjs")]],
  rollout: [process.execPath, ["--import", "tsx", join(root, "bench", "rollout", "run.ts")]],
  batch: [process.execPath, [join(root, "bench", "batch", "run.mjs")]],
};
const USAGE = `usage: npm run bench [-- NAME...]         every benchmark, or the named ones
       npm run bench -- NAME [OPTIONS...]   one benchmark with its own options (NAME --help lists them)
names: ${Object.keys(benches).join(", ")}`;

// Names first; from the first option on, everything belongs to the named benchmark.
const args = process.argv.slice(2);
const firstOption = args.findIndex((a) => a.startsWith("-"));
const wanted = firstOption < 0 ? args : args.slice(0, firstOption);
const options = firstOption < 0 ? [] : args.slice(firstOption);
if (options[0] === "--") options.shift();
const usageError = (message) => {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
};
if (wanted.length === 0 && options.some((o) => o === "--help" || o === "-h")) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
for (const name of wanted) {
  if (!(name in benches)) usageError(`unknown benchmark ${name}`);
}
if (options.length > 0 && wanted.length !== 1) {
  usageError(`options (${options.join(" ")}) go to one benchmark: name it first`);
}
// Asking a benchmark for its options needs no set-up.
if (!options.includes("--help")) setup();
let failed = 0;
for (const name of wanted.length ? wanted : Object.keys(benches)) {
  const [cmd, benchArgs] = benches[name];
  process.stdout.write(`\n### bench: ${name}\n`);
  const res = spawnSync(cmd, [...benchArgs, ...options], { cwd: root, stdio: "inherit" });
  if (res.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
