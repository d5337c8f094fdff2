// The set-up's first step: every prerequisite of the command about to run, checked in about a
// second before anything is installed or built, each problem named with the command that fixes
// it. Also the one list of Debian packages the project needs (`.ci/run` installs through it).
// Plain Node with no dependencies: it runs before node_modules exists.
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, readFileSync, statfsSync, statSync } from "node:fs";
import { freemem, homedir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { cacheRoot, GO_MIN_VERSION, isBuilt } from "../cluster/build-cache.mjs";

/**
 * The Debian packages the project needs, each with what shows it is there (a command on PATH
 * or a file) and why. `for`: "cluster" (the local cluster will run), "go" (a Go build is
 * ahead), "venv" (the Python environment is about to be created).
 */
export const DEBIAN_PACKAGES = [
  { name: "iproute2", command: "ip", for: "cluster", why: "pods' network namespaces and bridge" },
  {
    name: "iptables",
    command: "iptables",
    for: "cluster",
    why: "kube-proxy's checks and clean-up of iptables rules",
  },
  { name: "nftables", command: "nft", for: "cluster", why: "kube-proxy's Service rules" },
  { name: "openssl", command: "openssl", for: "cluster", why: "the cluster's certificates" },
  { name: "util-linux", command: "nsenter", for: "cluster", why: "exec probes inside a pod" },
  { name: "mount", command: "mount", for: "cluster", why: "pods' volumes (bind mounts)" },
  {
    name: "ca-certificates",
    file: "/etc/ssl/certs/ca-certificates.crt",
    for: "go",
    why: "HTTPS to the Go module proxy",
  },
  { name: "git", command: "git", for: "go", why: "modules the Go proxy does not serve" },
  { name: "python3", python: "any", for: "venv", why: "the trainer's environment (.venv)" },
  {
    name: "python3-venv",
    python: "import ensurepip, venv",
    for: "venv",
    why: "creating the trainer's environment (.venv)",
  },
];

const GB = 1024 ** 3;

/**
 * What a cold Go build takes, by build: free disk in the Go build cache, the module cache and
 * our binary cache (GB), and memory (GB; the linker's peak). Measured: Kubernetes and etcd
 * together ~4.1 GB of build cache, ~0.9 GB of modules, ~0.5 GB of binaries, 2.9 GB peak RSS.
 */
const BUILD_NEEDS = {
  etcd: { buildCache: 1, moduleCache: 0.5, binaries: 0.1, memory: 1.5 },
  k8s: { buildCache: 4, moduleCache: 1.5, binaries: 0.9, memory: 3 },
  helm: { buildCache: 0.8, moduleCache: 0.5, binaries: 0.1, memory: 1.5 },
  promtool: { buildCache: 0.8, moduleCache: 0.7, binaries: 0.1, memory: 1.5 },
  // Measured: 1,470 packages, ~1.9 GB of build cache, ~2.7 GB of modules (the whole graph is
  // downloaded), a 164 MB binary, the linker peaking at 2.2 GB RSS.
  weed: { buildCache: 2, moduleCache: 2.7, binaries: 0.2, memory: 2.5 },
};

/**
 * @typedef {object} Needs  what the command about to run needs from this machine
 * @property {boolean} [cluster]  the local cluster will run (root, its tools, kernel features)
 * @property {boolean} [serviceProxy]  with kube-proxy, so nftables is needed (default true)
 * @property {string[]} [goBuilds]  Go programs it uses (build-cache.mjs names); uncached ones are built
 * @property {boolean} [venv]  the Python environment is about to be created
 * @property {string} [rerun]  the command the user ran, for "run it again as root"
 *
 * @typedef {object} Host  the machine as the checks see it (tests pass their own)
 * @property {NodeJS.ProcessEnv} env
 * @property {number} uid
 *
 * @typedef {object} Problem
 * @property {string} message  what is wrong and why it matters
 * @property {string} [fix]  the command (or step) that fixes it; none for a missing package
 * @property {string} [pkg]  a missing Debian package (all are fixed by one apt-get line)
 * @property {boolean} [root]  the problem is running without root
 */

/** Absolute path of `cmd` on the host's PATH, or null. */
export function which(cmd, env) {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const path = join(dir, cmd);
    try {
      accessSync(path, constants.X_OK);
      if (statSync(path).isFile()) return path;
    } catch {}
  }
  return null;
}

/** Runs a probe command; `ok` when it exits 0, `output` its trimmed stdout or stderr. */
function probe(path, args, env) {
  const r = spawnSync(path, args, { env, encoding: "utf8", timeout: 10_000 });
  const output = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim() || (r.error?.message ?? "");
  return { ok: r.status === 0, stdout: (r.stdout ?? "").trim(), output };
}

/** True when dotted version `have` is at least `want` ("1.26.8" >= "1.26.0"). */
export function atLeast(have, want) {
  const a = have.split(".").map(Number);
  const b = want.split(".").map(Number);
  for (let i = 0; i < b.length; i++) {
    if ((a[i] ?? 0) !== b[i]) return (a[i] ?? 0) > b[i];
  }
  return true;
}

/** A Python >= 3.11 on PATH: `{ path, version }`, or null. */
export function findPython(env) {
  for (const name of ["python3.11", "python3.12", "python3.13", "python3"]) {
    const path = which(name, env);
    if (!path) continue;
    const r = probe(path, ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"], env);
    if (r.ok && atLeast(r.stdout, "3.11")) return { path, version: r.stdout };
  }
  return null;
}

function packageProblems(scopes, env, skip) {
  const problems = [];
  for (const p of DEBIAN_PACKAGES.filter((d) => scopes.includes(d.for) && !skip.includes(d.name))) {
    const missing = packageMissing(p, env);
    if (missing) {
      problems.push({
        message: `${missing} (Debian package ${p.name}): needed for ${p.why}`,
        pkg: p.name,
      });
    }
  }
  return problems;
}

/** What shows a Debian package missing, or null when it is there (or cannot be told yet). */
function packageMissing(p, env) {
  if (p.command) return which(p.command, env) ? null : `${p.command} not found on PATH`;
  if (p.file) return existsSync(p.file) ? null : `${p.file} is missing`;
  if (p.python === "any") {
    // Too old a python3 is its own problem (see pythonProblems); this is none at all.
    return which("python3", env) || findPython(env) ? null : "python3 not found on PATH";
  }
  const python = findPython(env);
  if (!python) return null;
  return probe(python.path, ["-c", p.python], env).ok
    ? null
    : `${python.path} cannot create environments`;
}

function nodeProblems(env) {
  const problems = [];
  const major = Number(process.versions.node.split(".")[0]);
  if (major < 20) {
    problems.push({
      message: `Node ${process.versions.node} is too old: the project needs Node >= 20`,
      fix: "install Node 20 or newer (https://nodejs.org/en/download)",
    });
  }
  if (!which("npm", env)) {
    problems.push({
      message: "npm not found on PATH: the set-up installs the dependencies with npm ci",
      fix: "install Node with its npm (https://nodejs.org/en/download)",
    });
  }
  return problems;
}

function pythonProblems(env) {
  if (!which("python3", env) || findPython(env)) return [];
  const have = probe(which("python3", env), ["--version"], env).output;
  return [
    {
      message: `${have} is too old: the trainer needs Python >= 3.11`,
      fix: "install Python 3.11 or newer (Debian 12 and Ubuntu 24.04 ship it as python3)",
    },
  ];
}

/** Root, and the kernel features the process node uses: network namespaces, nftables, forwarding. */
function clusterProblems(host, rerun, serviceProxy) {
  const { env } = host;
  if (host.uid !== 0) {
    return [
      {
        message:
          "not running as root: the local cluster creates network namespaces, a bridge and bind mounts",
        fix: `sudo env "PATH=$PATH" ${rerun}`,
        root: true,
      },
    ];
  }
  const problems = [];
  const ip = which("ip", env);
  if (ip) {
    // Not the cluster's `churn-` prefix: a running cluster's clean-up owns those.
    const name = `preflight-churn-${process.pid}`;
    const add = probe(ip, ["netns", "add", name], env);
    if (add.ok) probe(ip, ["netns", "delete", name], env);
    else {
      problems.push({
        message: `cannot create a network namespace (ip netns add: ${add.output}): every pod gets one`,
        fix: "run on a VM, or in a container started with --privileged",
      });
    }
  }
  const nft = serviceProxy ? which("nft", env) : null;
  if (nft) {
    const list = probe(nft, ["list", "tables"], env);
    if (!list.ok) {
      problems.push({
        message: `nftables is not usable (nft list tables: ${list.output}): kube-proxy writes the Services' rules with it`,
        fix: "modprobe nf_tables (or run on a kernel with nftables)",
      });
    }
  }
  try {
    accessSync("/proc/sys/net/ipv4/ip_forward", constants.W_OK);
  } catch {
    problems.push({
      message: "cannot write /proc/sys/net/ipv4/ip_forward: Services need packet forwarding",
      fix: "run on a VM, or in a container started with --privileged",
    });
  }
  return problems;
}

/** The Go caches' locations as `go env` reports them (defaults when go is missing). */
function goCaches(goPath, env) {
  const r = goPath ? probe(goPath, ["env", "GOVERSION", "GOCACHE", "GOMODCACHE"], env) : null;
  const [version, buildCache, moduleCache] = r?.ok ? r.stdout.split("\n") : [];
  const home = env.HOME || homedir();
  return {
    version: version?.replace(/^go/, "") ?? "",
    buildCache:
      buildCache || env.GOCACHE || join(env.XDG_CACHE_HOME || join(home, ".cache"), "go-build"),
    moduleCache:
      moduleCache ||
      env.GOMODCACHE ||
      join((env.GOPATH || join(home, "go")).split(delimiter)[0], "pkg", "mod"),
  };
}

/** The nearest existing directory at or above `path` (a cache not created yet counts where it will be). */
function existingAncestor(path) {
  let dir = path;
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** Bytes of memory available to new processes: MemAvailable, within a cgroup v2 limit. */
export function availableMemory() {
  let available = freemem();
  try {
    const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync("/proc/meminfo", "utf8"));
    if (m) available = Number(m[1]) * 1024;
  } catch {}
  try {
    const max = readFileSync("/sys/fs/cgroup/memory.max", "utf8").trim();
    if (max !== "max") {
      const current = Number(readFileSync("/sys/fs/cgroup/memory.current", "utf8"));
      const stat = readFileSync("/sys/fs/cgroup/memory.stat", "utf8");
      const reclaimable = Number(/^inactive_file (\d+)/m.exec(stat)?.[1] ?? 0);
      available = Math.min(available, Number(max) - current + reclaimable);
    }
  } catch {}
  return available;
}

const gb = (bytes) => `${(bytes / GB).toFixed(1)} GB`;

/** Go itself, then free disk and memory for the builds ahead (skipped when all are cached). */
function buildProblems(ahead, env) {
  const goPath = which("go", env);
  const caches = goCaches(goPath, { ...env, GOTOOLCHAIN: "local" });
  const need = buildNeeds(ahead);
  return [
    ...goProblems(goPath, caches.version, ahead),
    ...diskProblems(caches, need, ahead, env),
    ...memoryProblems(need, ahead),
  ];
}

/** No Go, or one older than the builds need. */
function goProblems(goPath, version, ahead) {
  const getGo = `curl -fsSL https://go.dev/dl/go${GO_MIN_VERSION}.linux-${process.arch === "arm64" ? "arm64" : "amd64"}.tar.gz | tar -C /usr/local -xz && export PATH=/usr/local/go/bin:$PATH`;
  const what = `${ahead.join(", ")} (built once from the Go module proxy, then cached)`;
  if (!goPath) return [{ message: `go not found on PATH: needed to build ${what}`, fix: getGo }];
  if (atLeast(version, GO_MIN_VERSION)) return [];
  return [
    {
      message: `Go ${version || "(unknown version)"} is too old: building ${what} needs Go >= ${GO_MIN_VERSION}`,
      fix: getGo,
    },
  ];
}

/** GB the builds ahead need: caches and binaries add up, memory is the largest link's. */
function buildNeeds(ahead) {
  const need = { buildCache: 0, moduleCache: 0, binaries: 0, memory: 0 };
  for (const name of ahead) {
    for (const k of Object.keys(need)) {
      need[k] =
        k === "memory" ? Math.max(need[k], BUILD_NEEDS[name][k]) : need[k] + BUILD_NEEDS[name][k];
    }
  }
  return need;
}

/** Too little free disk on a filesystem holding the Go caches or the built binaries. */
function diskProblems(caches, need, ahead, env) {
  // Caches on one filesystem add up.
  const byDevice = new Map();
  for (const [key, dir] of [
    ["buildCache", caches.buildCache],
    ["moduleCache", caches.moduleCache],
    ["binaries", cacheRoot(env)],
  ]) {
    const at = existingAncestor(dir);
    const dev = statSync(at).dev;
    const entry = byDevice.get(dev) ?? { at, dirs: [], bytes: 0 };
    entry.dirs.push(dir);
    entry.bytes += need[key] * GB;
    byDevice.set(dev, entry);
  }
  const problems = [];
  for (const { at, dirs, bytes } of byDevice.values()) {
    const fs = statfsSync(at);
    const free = fs.bavail * fs.bsize;
    if (free < bytes) {
      problems.push({
        message: `${gb(free)} free where ${dirs.join(", ")} live, ${gb(bytes)} needed to build ${ahead.join(", ")}`,
        fix: "free disk space there, or point GOCACHE, GOMODCACHE and CHURN_CLUSTER_CACHE at a disk with room",
      });
    }
  }
  return problems;
}

/** Too little memory to link the largest build ahead. */
function memoryProblems(need, ahead) {
  const memory = availableMemory();
  if (memory >= need.memory * GB) return [];
  return [
    {
      message: `${gb(memory)} of memory available, ~${need.memory} GB needed to link ${ahead.join(", ")}`,
      fix: "stop other programs or add swap (fallocate -l 4G /swapfile && chmod 600 /swapfile && mkswap /swapfile && swapon /swapfile)",
    },
  ];
}

/** This process's machine. */
export function thisHost() {
  return { env: process.env, uid: process.getuid?.() ?? -1 };
}

/**
 * Every prerequisite of `needs` on `host`; fast (no network, no build). Builds already cached
 * skip the Go, disk and memory checks.
 * @param {Needs} needs
 * @param {Host} [host]
 * @returns {{ problems: Problem[], packages: string[], buildsAhead: string[] }}
 */
export function preflight(needs, host = thisHost()) {
  const { env } = host;
  const serviceProxy = needs.serviceProxy ?? true;
  const ahead = (needs.goBuilds ?? []).filter((name) => !isBuilt(name, env));
  const scopes = [
    ...(needs.cluster ? ["cluster"] : []),
    ...(ahead.length ? ["go"] : []),
    ...(needs.venv ? ["venv"] : []),
  ];
  const rerun = needs.rerun ?? "npm run setup";
  const problems = [
    ...nodeProblems(env),
    ...(needs.venv ? pythonProblems(env) : []),
    ...packageProblems(scopes, env, serviceProxy ? [] : ["nftables"]),
    ...(needs.cluster ? clusterProblems(host, rerun, serviceProxy) : []),
    ...(ahead.length ? buildProblems(ahead, env) : []),
  ];
  const packages = problems.filter((p) => p.pkg).map((p) => p.pkg);
  return { problems, packages, buildsAhead: ahead };
}

/**
 * The commands that fix `problems`: one apt-get line for every missing package (none when
 * running again as root is the fix anyway: the set-up then installs them itself), then each
 * other problem's own fix.
 * @param {Problem[]} problems
 * @param {{ root: boolean, apt: boolean }} how
 */
export function fixCommands(problems, { root, apt }) {
  const packages = problems.filter((p) => p.pkg).map((p) => p.pkg);
  const rerunAsRoot = problems.some((p) => p.root);
  const fixes = [];
  if (packages.length && !(apt && rerunAsRoot)) {
    const sudo = root ? "" : "sudo ";
    fixes.push(`${sudo}apt-get install -y --no-install-recommends ${packages.join(" ")}`);
  }
  for (const p of problems) {
    if (!p.fix || fixes.includes(p.fix)) continue;
    const installs =
      p.root && apt && packages.length
        ? ` (as root the set-up installs ${packages.join(" ")} itself)`
        : "";
    fixes.push(`${p.fix}${installs}`);
  }
  return fixes;
}

/**
 * What a person reads when the preflight fails: each problem, then the commands that fix them.
 * @param {{ problems: Problem[], packages: string[] }} report
 * @param {Host} [host]
 */
export function explain(report, host = thisHost()) {
  const apt = which("apt-get", host.env) !== null;
  const n = report.problems.length;
  const lines = [`preflight: ${n} problem${n === 1 ? "" : "s"}`];
  for (const p of report.problems) lines.push(`  ${p.message}`);
  for (const fix of fixCommands(report.problems, { root: host.uid === 0, apt })) {
    lines.push(`fix: ${fix}`);
  }
  if (report.packages.length && !apt) {
    lines.push("  (no apt-get here: install the same packages with this system's package manager)");
  }
  return lines;
}
