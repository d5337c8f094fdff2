import { spawn } from "node:child_process";
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { withFileLock } from "./file-lock.js";
import {
  cacheRoot,
  ETCD_VERSION,
  etcdBinDir,
  KUBERNETES_COMMANDS,
  KUBERNETES_VERSION,
  type KubernetesCommand,
  kubernetesBinDir,
} from "./versions.js";

/** Absolute paths of every binary the local cluster runs. */
export interface ClusterBinaries {
  etcd: string;
  "kube-apiserver": string;
  "kube-controller-manager": string;
  "kube-scheduler": string;
  "kube-proxy": string;
  kubectl: string;
}

const log = (msg: string) => process.stderr.write(`[cluster] ${msg}\n`);

/**
 * Go settings shared by every build: never fetch another toolchain (only the module proxy is
 * reachable), and let `go get`/`go build` update our generated go.mod.
 */
function goEnv(): NodeJS.ProcessEnv {
  return { ...process.env, GOTOOLCHAIN: "local", GOFLAGS: "-mod=mod" };
}

/** Runs a go command in `cwd`, appending its output to `logFile`; rejects with the log's tail. */
function go(args: string[], cwd: string, logFile: string): Promise<string> {
  appendFileSync(logFile, `\n$ go ${args.join(" ")}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn("go", args, { cwd, env: goEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => appendFileSync(logFile, d));
    child.on("error", (err) =>
      reject(new Error(`cannot run go (is Go >= 1.26 on PATH?): ${err.message}`)),
    );
    child.on("close", (code) => {
      if (code === 0) return resolve(stdout);
      const tail = readFileSync(logFile, "utf8").split("\n").slice(-25).join("\n");
      reject(new Error(`go ${args.join(" ")} exited with ${code}; see ${logFile}:\n${tail}`));
    });
  });
}

/** `v1.37.2` -> `v0.37.2`: staging modules are tagged with major 0 and the same minor/patch. */
export function stagingVersion(kubernetesVersion: string): string {
  const m = /^v1\.(\d+)\.(\d+)$/.exec(kubernetesVersion);
  if (!m) throw new Error(`Kubernetes version must look like v1.N.M, got "${kubernetesVersion}"`);
  return `v0.${m[1]}.${m[2]}`;
}

/**
 * The `replace` block a module needs to depend on k8s.io/kubernetes: upstream's go.mod points
 * every staging module at `./staging/src/...`, which does not exist in the published module, so
 * each one is redirected to its published `v0.N.M` tag. Derived from upstream's own go.mod so it
 * follows new or removed staging modules without hand edits.
 */
export function stagingReplaces(upstreamGoMod: string, kubernetesVersion: string): string[] {
  const version = stagingVersion(kubernetesVersion);
  const lines: string[] = [];
  for (const line of upstreamGoMod.split("\n")) {
    const m = /^\s*(?:replace\s+)?(k8s\.io\/[\w.-]+)\s+=>\s+\.\/staging\//.exec(line);
    if (m) lines.push(`${m[1]} => ${m[1]} ${version}`);
  }
  if (lines.length === 0)
    throw new Error("no staging replace lines found in k8s.io/kubernetes go.mod");
  return lines;
}

/** Reads the path of a module's go.mod in the module cache (downloading it if needed). */
async function moduleGoMod(module: string, cwd: string, logFile: string): Promise<string> {
  const out = await go(["mod", "download", "-json", module], cwd, logFile);
  const info = JSON.parse(out) as { GoMod?: string; Error?: string };
  if (info.Error || !info.GoMod) throw new Error(`go mod download ${module}: ${info.Error}`);
  return readFileSync(info.GoMod, "utf8");
}

function versionLdflags(): string {
  const m = /^v(\d+)\.(\d+)\./.exec(KUBERNETES_VERSION);
  const flags = ["-s", "-w"];
  for (const pkg of ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"]) {
    flags.push(
      `-X ${pkg}.gitVersion=${KUBERNETES_VERSION}`,
      `-X ${pkg}.gitMajor=${m?.[1]}`,
      `-X ${pkg}.gitMinor=${m?.[2]}`,
      `-X ${pkg}.gitTreeState=clean`,
      `-X ${pkg}.buildDate=1970-01-01T00:00:00Z`,
    );
  }
  return flags.join(" ");
}

/** A build is complete when its marker names exactly the pinned version and binaries. */
function isComplete(binDir: string, marker: object): boolean {
  const file = join(binDir, ".complete");
  return existsSync(file) && readFileSync(file, "utf8") === JSON.stringify(marker);
}

async function buildKubernetes(): Promise<void> {
  const binDir = kubernetesBinDir();
  const marker = { version: KUBERNETES_VERSION, commands: KUBERNETES_COMMANDS };
  if (isComplete(binDir, marker)) return;
  const top = dirname(binDir);
  await withFileLock(top, ".build-lock", async () => {
    if (isComplete(binDir, marker)) return;
    const src = join(top, "src");
    const logFile = join(top, "build.log");
    mkdirSync(src, { recursive: true });
    writeFileSync(logFile, `building Kubernetes ${KUBERNETES_VERSION}\n`);
    log(`building Kubernetes ${KUBERNETES_VERSION} from the Go module proxy (log: ${logFile})`);
    log("a cold build takes a while; later runs reuse the cached binaries");
    const started = Date.now();
    const upstream = `k8s.io/kubernetes@${KUBERNETES_VERSION}`;
    // The generated module lives in the cache, not the repo: it is derived from the pin alone.
    writeFileSync(join(src, "go.mod"), "module churn-operator.local/k8s-build\n\ngo 1.26.0\n");
    const replaces = stagingReplaces(await moduleGoMod(upstream, src, logFile), KUBERNETES_VERSION);
    writeFileSync(
      join(src, "go.mod"),
      [
        "module churn-operator.local/k8s-build",
        "",
        "go 1.26.0",
        "",
        "replace (",
        ...replaces.map((r) => `\t${r}`),
        ")",
        "",
      ].join("\n"),
    );
    const pkgs = KUBERNETES_COMMANDS.map((c) => `k8s.io/kubernetes/cmd/${c}`);
    await go(["get", ...pkgs.map((p) => `${p}@${KUBERNETES_VERSION}`)], src, logFile);
    const out = join(top, "bin.tmp");
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out);
    await go(
      ["build", "-trimpath", "-ldflags", versionLdflags(), "-o", `${out}/`, ...pkgs],
      src,
      logFile,
    );
    writeFileSync(join(out, ".complete"), JSON.stringify(marker));
    rmSync(binDir, { recursive: true, force: true });
    renameSync(out, binDir);
    log(`built Kubernetes ${KUBERNETES_VERSION} in ${Math.round((Date.now() - started) / 1000)} s`);
  });
}

async function buildEtcd(): Promise<void> {
  const binDir = etcdBinDir();
  const marker = { version: ETCD_VERSION, commands: ["etcd"] };
  if (isComplete(binDir, marker)) return;
  const top = dirname(binDir);
  await withFileLock(top, ".build-lock", async () => {
    if (isComplete(binDir, marker)) return;
    const src = join(top, "src");
    const logFile = join(top, "build.log");
    mkdirSync(src, { recursive: true });
    writeFileSync(logFile, `building etcd ${ETCD_VERSION}\n`);
    log(`building etcd ${ETCD_VERSION} from the Go module proxy (log: ${logFile})`);
    const started = Date.now();
    writeFileSync(join(src, "go.mod"), "module churn-operator.local/etcd-build\n\ngo 1.26.0\n");
    // etcd's own main package is exactly this call; depending on the server module avoids the
    // root module's relative replace directives.
    writeFileSync(
      join(src, "main.go"),
      [
        "package main",
        "",
        "import (",
        '\t"os"',
        "",
        '\t"go.etcd.io/etcd/server/v3/etcdmain"',
        ")",
        "",
        "func main() { etcdmain.Main(os.Args) }",
        "",
      ].join("\n"),
    );
    await go(["get", `go.etcd.io/etcd/server/v3@${ETCD_VERSION}`], src, logFile);
    await go(["mod", "tidy"], src, logFile);
    const out = join(top, "bin.tmp");
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out);
    await go(
      ["build", "-trimpath", "-ldflags", "-s -w", "-o", join(out, "etcd"), "."],
      src,
      logFile,
    );
    writeFileSync(join(out, ".complete"), JSON.stringify(marker));
    rmSync(binDir, { recursive: true, force: true });
    renameSync(out, binDir);
    log(`built etcd ${ETCD_VERSION} in ${Math.round((Date.now() - started) / 1000)} s`);
  });
}

/** Paths of the cached binaries, without building; `null` when any is missing. */
export function cachedBinaries(): ClusterBinaries | null {
  const k8s = kubernetesBinDir();
  const paths = {
    etcd: join(etcdBinDir(), "etcd"),
    ...Object.fromEntries(KUBERNETES_COMMANDS.map((c) => [c, join(k8s, c)])),
  } as ClusterBinaries;
  const marker = { version: KUBERNETES_VERSION, commands: KUBERNETES_COMMANDS };
  const etcdMarker = { version: ETCD_VERSION, commands: ["etcd"] };
  if (!isComplete(k8s, marker) || !isComplete(etcdBinDir(), etcdMarker)) return null;
  return paths;
}

/**
 * Builds (once per pinned version) etcd and the Kubernetes binaries from the Go module proxy
 * into the cache under {@link cacheRoot}, and returns their paths.
 */
export async function ensureBinaries(): Promise<ClusterBinaries> {
  mkdirSync(cacheRoot(), { recursive: true });
  await buildEtcd();
  await buildKubernetes();
  const bins = cachedBinaries();
  if (!bins) throw new Error("binaries missing after build; see the build logs in the cache");
  return bins;
}

export type { KubernetesCommand };
