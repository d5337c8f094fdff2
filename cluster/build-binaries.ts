import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GO_MIN_VERSION } from "./build-cache.mjs";
import { buildOnce, isComplete } from "./cached-build.js";
import { goBuild, goFetch, moduleGoMod } from "./go-command.js";
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

/** Our generated go.mod is updated by `go get`/`go build` as they resolve the pin. */
const GO_ENV = { GOFLAGS: "-mod=mod" };

/** A generated module's go.mod: its name, the Go it needs, then `extra` lines. */
function goMod(name: string, extra: string[] = []): string {
  return [`module churn-operator.local/${name}`, "", `go ${GO_MIN_VERSION}`, "", ...extra].join(
    "\n",
  );
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

/** Link flags that make the binaries report the pinned version, as upstream's release builds do. */
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

function buildKubernetes(): Promise<void> {
  const marker = { version: KUBERNETES_VERSION, commands: KUBERNETES_COMMANDS };
  const label = { prefix: "cluster", label: `Kubernetes ${KUBERNETES_VERSION}`, steps: 4 };
  return buildOnce(kubernetesBinDir(), marker, label, async (ctx) => {
    const opts = { cwd: ctx.src, logFile: ctx.logFile, env: GO_ENV };
    const upstream = `k8s.io/kubernetes@${KUBERNETES_VERSION}`;
    writeFileSync(join(ctx.src, "go.mod"), goMod("k8s-build"));
    ctx.progress.step("read upstream go.mod", "modules");
    const replaces = stagingReplaces(await moduleGoMod(upstream, opts), KUBERNETES_VERSION);
    writeFileSync(
      join(ctx.src, "go.mod"),
      goMod("k8s-build", ["replace (", ...replaces.map((r) => `\t${r}`), ")", ""]),
    );
    const pkgs = KUBERNETES_COMMANDS.map((c) => `k8s.io/kubernetes/cmd/${c}`);
    const get = ["get", ...pkgs.map((p) => `${p}@${KUBERNETES_VERSION}`)];
    await goFetch("download modules", get, opts, ctx.progress);
    const flags = ["-trimpath", "-ldflags", versionLdflags()];
    await goBuild(flags, pkgs, `${ctx.out}/`, opts, ctx.progress);
  });
}

function buildEtcd(): Promise<void> {
  const marker = { version: ETCD_VERSION, commands: ["etcd"] };
  const label = { prefix: "cluster", label: `etcd ${ETCD_VERSION}`, steps: 4 };
  return buildOnce(etcdBinDir(), marker, label, async (ctx) => {
    const opts = { cwd: ctx.src, logFile: ctx.logFile, env: GO_ENV };
    writeFileSync(join(ctx.src, "go.mod"), goMod("etcd-build"));
    // etcd's own main package is exactly this call; depending on the server module avoids the
    // root module's relative replace directives.
    writeFileSync(
      join(ctx.src, "main.go"),
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
    const get = ["get", `go.etcd.io/etcd/server/v3@${ETCD_VERSION}`];
    await goFetch("download modules", get, opts, ctx.progress);
    await goFetch("tidy modules", ["mod", "tidy"], opts, ctx.progress);
    const flags = ["-trimpath", "-ldflags", "-s -w"];
    await goBuild(flags, ["."], join(ctx.out, "etcd"), opts, ctx.progress);
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
