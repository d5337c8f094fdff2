#!/usr/bin/env node
// `npm run bench [-- trainer|runtime]`: every benchmark (or the named ones), each printing its
// ratios against the baselines it measures in the same run. Not part of `npm test`.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { root, setup, venvPython } from "../scripts/setup.mjs";

const benches = {
  trainer: [venvPython, [join(root, "bench", "trainer", "run.py")]],
  runtime: [process.execPath, [join(root, "bench", "runtime", "run.mjs")]],
};
const wanted = process.argv.slice(2);
for (const name of wanted) {
  if (!(name in benches)) {
    process.stderr.write(
      `unknown benchmark ${name}; choose from ${Object.keys(benches).join(", ")}\n`,
    );
    process.exit(2);
  }
}
setup();
let failed = 0;
for (const name of wanted.length ? wanted : Object.keys(benches)) {
  const [cmd, args] = benches[name];
  process.stdout.write(`\n### bench: ${name}\n`);
  const res = spawnSync(cmd, args, { cwd: root, stdio: "inherit" });
  if (res.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
