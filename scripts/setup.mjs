#!/usr/bin/env node
// Idempotent set-up for a fresh machine: first the preflight (every prerequisite checked; the
// missing Debian packages installed when running as root with apt-get, else a stop with the
// command that fixes it), then npm dependencies, the Python environment at .venv/, the
// TypeScript build, and the Go programs the command needs (the local cluster's binaries, the
// chart tests' helm and promtool, the S3 tests' weed). Each step is skipped when its inputs have not changed, so a
// second run takes about a second.
// Plain Node with no dependencies: it runs before node_modules exists.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { explain, findPython, preflight, thisHost, which } from "./preflight.mjs";

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

/** Creates .venv/ from trainer/requirements.lock and installs the trainer package into it. */
export function ensurePython() {
  const fp = fingerprint(["trainer/requirements.lock", "trainer/pyproject.toml"]);
  const stamp = join(root, ".venv", ".churn-setup-stamp");
  if (existsSync(venvPython) && stamped(stamp, fp)) return;
  if (!existsSync(venvPython)) {
    const py = findPython(process.env);
    if (!py) throw new Error("Python >= 3.11 not found on PATH"); // the preflight said so first
    log(`creating .venv with ${py.path} (Python ${py.version})`);
    run(py.path, ["-m", "venv", join(root, ".venv")]);
  }
  log("installing Python dependencies from trainer/requirements.lock");
  const pipEnv = { PIP_DISABLE_PIP_VERSION_CHECK: "1" };
  run(venvPython, ["-m", "pip", "install", "-q", "-r", "trainer/requirements.lock"], {
    env: pipEnv,
  });
  run(venvPython, ["-m", "pip", "install", "-q", "--no-deps", "-e", "trainer"], { env: pipEnv });
  writeFileSync(stamp, fp);
}

/** Where the real Open Inference Protocol clients (tritonclient, kserve) live for the tests. */
export const clientsPython = join(root, ".cache", "v2-clients-venv", "bin", "python");

/**
 * Creates the clients' venv from runtime/conformance/requirements.txt (every package pinned,
 * so --no-deps). Apart from .venv: kserve pins protobuf 6 and the trainer's onnx needs 7. About
 * 80 packages, ~80 s and ~500 MB cold (kserve's own dependencies are most of it); only tests use it.
 */
export function ensureClientsVenv() {
  const requirements = "runtime/conformance/requirements.txt";
  const fp = fingerprint([requirements]);
  const venv = join(root, ".cache", "v2-clients-venv");
  const stamp = join(venv, ".churn-setup-stamp");
  if (existsSync(clientsPython) && stamped(stamp, fp)) return;
  if (!existsSync(clientsPython)) {
    const py = findPython(process.env);
    if (!py) throw new Error("Python >= 3.11 not found on PATH"); // the preflight said so first
    log(`creating .cache/v2-clients-venv with ${py.path} (tritonclient, kserve: test clients)`);
    run(py.path, ["-m", "venv", venv]);
  }
  log(`installing the Open Inference Protocol test clients from ${requirements}`);
  run(clientsPython, ["-m", "pip", "install", "-q", "--no-deps", "-r", requirements], {
    env: { PIP_DISABLE_PIP_VERSION_CHECK: "1" },
  });
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
    newestMtime(join(root, "common")),
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

/**
 * What `npm test` needs: the local cluster (unless told to use an existing one), helm/promtool
 * for the chart tests and weed (SeaweedFS) for the S3 storage tests.
 */
export function testNeeds(env = process.env) {
  const cluster = env.USE_EXISTING_CLUSTER !== "true";
  return {
    cluster,
    goBuilds: [...(cluster ? ["etcd", "k8s"] : []), "helm", "promtool", "weed"],
    clients: true,
    rerun: "npm test",
  };
}

/**
 * Runs the preflight for `needs`. As root with apt-get, missing Debian packages (when they are
 * the only problems) are installed and the checks run again; any problem left stops the
 * set-up before anything long starts, naming each problem and the command that fixes it.
 */
export function checkMachine(needs) {
  const host = thisHost();
  const full = { ...needs, venv: !existsSync(venvPython) };
  let report = preflight(full, host);
  const onlyPackages = report.problems.every((p) => p.pkg);
  if (report.packages.length && onlyPackages && host.uid === 0 && which("apt-get", host.env)) {
    log(`installing Debian packages (apt-get, as root): ${report.packages.join(" ")}`);
    const apt = { env: { DEBIAN_FRONTEND: "noninteractive" } };
    run("apt-get", ["update", "-q"], apt);
    run("apt-get", ["install", "-y", "-q", "--no-install-recommends", ...report.packages], apt);
    report = preflight(full, host);
  }
  if (report.problems.length) {
    for (const line of explain(report, host)) log(line);
    throw new Error("stopped by the preflight before installing or building anything (above)");
  }
  if (report.buildsAhead.length) {
    log(
      `preflight passed; building ${report.buildsAhead.join(", ")} from the Go module proxy next ` +
        "(a cold Kubernetes build takes 10-20 min on 2 cores; later runs reuse the binaries)",
    );
  }
  return report;
}

/** Builds the Go programs the command needs and the cache lacks, each showing its progress. */
export function ensureGoBuilds(names) {
  const tsx = join(root, "node_modules", ".bin", "tsx");
  if (names.includes("etcd") || names.includes("k8s")) run(tsx, ["cluster/cli.ts", "build"]);
  if (names.includes("helm")) run(tsx, ["test/chart/helm-binary.ts"]);
  if (names.includes("promtool")) run(tsx, ["test/chart/promtool-binary.ts"]);
  if (names.includes("weed")) run(tsx, ["cluster/weed-binary.ts"]);
}

/**
 * Everything the command needs (`npm test`: {@link testNeeds}; the demo passes its own):
 * preflight, npm ci, .venv, the TypeScript build, then the Go builds.
 */
export function setup(needs = {}) {
  const report = checkMachine(needs);
  ensureNode();
  ensurePython();
  if (needs.clients) ensureClientsVenv();
  ensureBuild();
  ensureGoBuilds(report.buildsAhead);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    setup({ ...testNeeds(), rerun: "npm run setup" });
    log("ready");
  } catch (err) {
    process.stderr.write(`[setup] failed: ${err.message}\n`);
    process.exit(1);
  }
}
