#!/usr/bin/env node
// Idempotent set-up for a fresh machine: npm dependencies, the Python environment at .venv/,
// and the TypeScript build. Each step records a fingerprint of its inputs and is skipped when
// nothing changed, so a second run takes well under a second.
// Plain Node with no dependencies: it has to run before node_modules exists.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const venvPython = join(root, ".venv", "bin", "python");

const log = (msg) => process.stderr.write(`[setup] ${msg}\n`);

/** Runs a command with inherited output; throws with the command line when it fails. */
export function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, {
    cwd: root,
    stdio: opts.quiet ? ["ignore", "pipe", "pipe"] : "inherit",
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: "skip", ...(opts.env ?? {}) },
  });
  if (res.error) throw new Error(`${cmd} ${args.join(" ")}: ${res.error.message}`);
  if (res.status !== 0) {
    const detail = opts.quiet ? `\n${res.stdout}${res.stderr}` : "";
    throw new Error(`${cmd} ${args.join(" ")} exited with ${res.status}${detail}`);
  }
  return res;
}

function fingerprint(files) {
  const h = createHash("sha256");
  for (const f of files) {
    const p = join(root, f);
    h.update(f);
    h.update(existsSync(p) ? readFileSync(p) : "missing");
  }
  return h.digest("hex");
}

function stamped(stampFile, fp) {
  return existsSync(stampFile) && readFileSync(stampFile, "utf8").trim() === fp;
}

/** npm ci when node_modules is missing or the lock file changed since the last install. */
export function ensureNode() {
  // The lock records package.json's dependencies too; script edits need no reinstall.
  const fp = fingerprint(["package-lock.json"]);
  const stamp = join(root, "node_modules", ".churn-setup-stamp");
  if (stamped(stamp, fp)) return;
  log("installing npm dependencies (npm ci)");
  run("npm", ["ci", "--no-audit", "--no-fund"]);
  writeFileSync(stamp, fp);
}

function findPython() {
  for (const cand of ["python3.11", "python3.12", "python3.13", "python3"]) {
    const res = spawnSync(cand, ["-c", "import sys; print(sys.version_info[:2] >= (3, 11))"], {
      encoding: "utf8",
    });
    if (res.status === 0 && res.stdout.trim() === "True") return cand;
  }
  throw new Error("Python >= 3.11 not found on PATH (tried python3.11, python3.12, python3)");
}

/** Creates .venv/ from trainer/requirements.lock and installs the trainer package into it. */
export function ensurePython() {
  const fp = fingerprint(["trainer/requirements.lock", "trainer/pyproject.toml"]);
  const stamp = join(root, ".venv", ".churn-setup-stamp");
  if (existsSync(venvPython) && stamped(stamp, fp)) return;
  if (!existsSync(venvPython)) {
    const py = findPython();
    log(`creating .venv with ${py}`);
    run(py, ["-m", "venv", join(root, ".venv")]);
  }
  log("installing Python dependencies from trainer/requirements.lock");
  const pipEnv = { PIP_DISABLE_PIP_VERSION_CHECK: "1" };
  run(venvPython, ["-m", "pip", "install", "-q", "-r", "trainer/requirements.lock"], {
    env: pipEnv,
  });
  run(venvPython, ["-m", "pip", "install", "-q", "--no-deps", "-e", "trainer"], { env: pipEnv });
  writeFileSync(stamp, fp);
}

function newestMtime(dir) {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** Compiles operator/ and runtime/ to dist/ when any source is newer than the last build. */
export function ensureBuild() {
  const stamp = join(root, "dist", ".churn-build-stamp");
  const src = Math.max(
    newestMtime(join(root, "operator", "src")),
    newestMtime(join(root, "runtime", "src")),
    statSync(join(root, "tsconfig.json")).mtimeMs,
    statSync(join(root, "tsconfig.build.json")).mtimeMs,
  );
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= src) return;
  log("building TypeScript (tsc -p tsconfig.build.json)");
  run(join(root, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.build.json"]);
  mkdirSync(join(root, "dist"), { recursive: true });
  writeFileSync(stamp, new Date().toISOString());
}

/** Everything a developer machine needs for tests and the demo. */
export function setup() {
  ensureNode();
  ensurePython();
  ensureBuild();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    setup();
    log("ready");
  } catch (err) {
    process.stderr.write(`[setup] failed: ${err.message}\n`);
    process.exit(1);
  }
}
