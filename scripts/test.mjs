#!/usr/bin/env node
// `npm test`: set-up, then every suite (lint, typecheck, vitest unit, pytest, integration),
// each counted from its machine-readable report, ending with one plain summary line:
//   N passed, N failed, N skipped
// Exits non-zero when anything failed. Plain Node: it runs before node_modules exists.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { root, setup, testNeeds, venvPython } from "./setup.mjs";

const reports = join(root, "test-results");
const bin = (name) => join(root, "node_modules", ".bin", name);

function exec(cmd, args, env = {}) {
  process.stdout.write(`\n$ ${cmd.replace(`${root}/`, "")} ${args.join(" ")}\n`);
  const res = spawnSync(cmd, args, {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: "skip", ...env },
  });
  if (res.error) process.stdout.write(`could not start ${cmd}: ${res.error.message}\n`);
  return res.status ?? 1;
}

/** A check that is one test: it passes or fails as a whole (lint, typecheck). */
const check = (cmd, args) => () => {
  const code = exec(cmd, args);
  return { passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1, skipped: 0 };
};

/** Runs vitest with a JSON report and counts its tests; a crash with no report is one failure. */
const vitest = (config, name) => () => {
  const out = join(reports, `${name}.json`);
  rmSync(out, { force: true });
  const args = ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${out}`];
  if (config) args.push("--config", config);
  const code = exec(bin("vitest"), args);
  if (!existsSync(out)) return { passed: 0, failed: 1, skipped: 0 };
  const r = JSON.parse(readFileSync(out, "utf8"));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  let failed = r.numFailedTests ?? 0;
  // A suite that fails to load (syntax error, failing global setup) has no failed tests but
  // still fails the run: count it so the summary never says "0 failed" for a red run.
  if (code !== 0 && failed === 0) failed = Math.max(1, r.numFailedTestSuites ?? 0);
  return { passed: r.numPassedTests ?? 0, failed, skipped };
};

/** Runs pytest with a JUnit report; exit code 5 (no tests collected) counts as a failure. */
const pytest = () => {
  const out = join(reports, "pytest.xml");
  rmSync(out, { force: true });
  const code = exec(venvPython, ["-m", "pytest", "trainer/tests", `--junitxml=${out}`, "-q"]);
  if (!existsSync(out)) return { passed: 0, failed: 1, skipped: 0 };
  const xml = readFileSync(out, "utf8");
  const attr = (n) => Number(new RegExp(`<testsuite[^>]*\\s${n}="(\\d+)"`).exec(xml)?.[1] ?? 0);
  const total = attr("tests");
  const failed = attr("failures") + attr("errors");
  const skipped = attr("skipped");
  if (code !== 0 && failed === 0) return { passed: total - skipped, failed: 1, skipped };
  return { passed: total - failed - skipped, failed, skipped };
};

const suites = [
  ["lint (biome)", check(bin("biome"), ["check", "."])],
  ["lint (ruff)", check(join(root, ".venv", "bin", "ruff"), ["check", "trainer", "bench"])],
  [
    "format (ruff)",
    check(join(root, ".venv", "bin", "ruff"), ["format", "--check", "trainer", "bench"]),
  ],
  ["typecheck (tsc)", check(bin("tsc"), ["-p", "tsconfig.json", "--noEmit"])],
  ["unit (vitest)", vitest(null, "vitest-unit")],
  ["trainer (pytest)", pytest],
];
if (existsSync(join(root, "test", "vitest.integration.config.ts"))) {
  suites.push(["integration (vitest)", vitest("test/vitest.integration.config.ts", "integration")]);
}

function main() {
  try {
    setup(testNeeds());
  } catch (err) {
    process.stdout.write(`set-up failed: ${err.message}\n0 passed, 1 failed\n`);
    process.exit(1);
  }
  mkdirSync(reports, { recursive: true });
  const total = { passed: 0, failed: 0, skipped: 0 };
  const lines = [];
  for (const [name, runSuite] of suites) {
    const r = runSuite();
    for (const k of Object.keys(total)) total[k] += r[k];
    lines.push(`  ${name.padEnd(24)} ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`);
  }
  process.stdout.write(`\nsuites:\n${lines.join("\n")}\n`);
  const skipped = total.skipped ? `, ${total.skipped} skipped` : "";
  process.stdout.write(`${total.passed} passed, ${total.failed} failed${skipped}\n`);
  process.exit(total.failed === 0 ? 0 : 1);
}

main();
