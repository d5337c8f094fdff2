import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { withFileLock } from "./file-lock.js";
import { go, moduleGoMod } from "./go-command.js";
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

/** Our generated go.mod is updated by `go get`/`go build` as they resolve the pin. */
const GO_ENV = { GOFLAGS: "-mod=mod" };

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

/** Where a build step works: the generated module (`src`), its output dir and its log. */
interface BuildDirs {
  src: string;
  out: string;
  logFile: string;
}

/**
 * Builds `label` once per `marker` into `binDir`: under a file lock (parallel callers wait for
 * one build), in a scratch `bin.tmp` renamed into place when complete, so a crash mid-build
 * never leaves a directory that looks finished.
 */
async function buildOnce(
  binDir: string,
  marker: object,
  label: string,
  build: (dirs: BuildDirs) => Promise<void>,
): Promise<void> {
  if (isComplete(binDir, marker)) return;
  const top = dirname(binDir);
  await withFileLock(top, ".build-lock", async () => {
    if (isComplete(binDir, marker)) return;
    const dirs = {
      src: join(top, "src"),
      out: join(top, "bin.tmp"),
      logFile: join(top, "build.log"),
    };
    mkdirSync(dirs.src, { recursive: true });
    writeFileSync(dirs.logFile, `building ${label}\n`);
    log(`building ${label} from the Go module proxy (log: ${dirs.logFile})`);
    log("a cold build takes a while; later runs reuse the cached binaries");
    const started = Date.now();
    rmSync(dirs.out, { recursive: true, force: true });
    mkdirSync(dirs.out);
    await build(dirs);
    writeFileSync(join(dirs.out, ".complete"), JSON.stringify(marker));
    rmSync(binDir, { recursive: true, force: true });
    renameSync(dirs.out, binDir);
    log(`built ${label} in ${Math.round((Date.now() - started) / 1000)} s`);
  });
}

function buildKubernetes(): Promise<void> {
  const marker = { version: KUBERNETES_VERSION, commands: KUBERNETES_COMMANDS };
  return buildOnce(kubernetesBinDir(), marker, `Kubernetes ${KUBERNETES_VERSION}`, async (d) => {
    const upstream = `k8s.io/kubernetes@${KUBERNETES_VERSION}`;
    // The generated module lives in the cache, not the repo: it is derived from the pin alone.
    writeFileSync(join(d.src, "go.mod"), "module churn-operator.local/k8s-build\n\ngo 1.26.0\n");
    const upstreamGoMod = await moduleGoMod(upstream, d.src, d.logFile, GO_ENV);
    const replaces = stagingReplaces(upstreamGoMod, KUBERNETES_VERSION);
    writeFileSync(
      join(d.src, "go.mod"),
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
    await go(["get", ...pkgs.map((p) => `${p}@${KUBERNETES_VERSION}`)], d.src, d.logFile, GO_ENV);
    await go(
      ["build", "-trimpath", "-ldflags", versionLdflags(), "-o", `${d.out}/`, ...pkgs],
      d.src,
      d.logFile,
      GO_ENV,
    );
  });
}

function buildEtcd(): Promise<void> {
  const marker = { version: ETCD_VERSION, commands: ["etcd"] };
  return buildOnce(etcdBinDir(), marker, `etcd ${ETCD_VERSION}`, async (d) => {
    writeFileSync(join(d.src, "go.mod"), "module churn-operator.local/etcd-build\n\ngo 1.26.0\n");
    // etcd's own main package is exactly this call; depending on the server module avoids the
    // root module's relative replace directives.
    writeFileSync(
      join(d.src, "main.go"),
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
    await go(["get", `go.etcd.io/etcd/server/v3@${ETCD_VERSION}`], d.src, d.logFile, GO_ENV);
    await go(["mod", "tidy"], d.src, d.logFile, GO_ENV);
    await go(
      ["build", "-trimpath", "-ldflags", "-s -w", "-o", join(d.out, "etcd"), "."],
      d.src,
      d.logFile,
      GO_ENV,
    );
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
