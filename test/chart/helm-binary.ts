import { pathToFileURL } from "node:url";
import { GO_BUILDS } from "../../cluster/build-cache.mjs";
import { ensureGoBinary, type GoBinary } from "../../cluster/go-binary.js";

/** The pinned Helm release (pins live in cluster/build-cache.mjs, read by the preflight). */
export const HELM_VERSION = GO_BUILDS.helm;
const MODULE = "helm.sh/helm/v3";

/**
 * The Kubernetes version helm assumes without a cluster (`helm template`'s default
 * capabilities) is set at link time, as helm's own Makefile does, from its client-go version:
 * client-go v0.N.M is Kubernetes 1.N.
 */
export function kubernetesMinorOf(helmGoMod: string): string {
  const m = /^\s*k8s\.io\/client-go\s+v0\.(\d+)\.\d+/m.exec(helmGoMod);
  if (!m?.[1]) throw new Error("helm's go.mod names no k8s.io/client-go v0.N.M requirement");
  return m[1];
}

const helmBinary: GoBinary = {
  name: "helm",
  module: MODULE,
  pkg: "cmd/helm",
  version: HELM_VERSION,
  ldflags: (goMod) => {
    const minor = kubernetesMinorOf(goMod);
    const flags = ["-s", "-w", `-X ${MODULE}/internal/version.version=${HELM_VERSION}`];
    for (const pkg of ["pkg/lint/rules", "pkg/chartutil"]) {
      flags.push(
        `-X ${MODULE}/${pkg}.k8sVersionMajor=1`,
        `-X ${MODULE}/${pkg}.k8sVersionMinor=${minor}`,
      );
    }
    return flags.join(" ");
  },
};

/** Path of the pinned helm, built from the Go module proxy on first use and cached. */
export function ensureHelm(): Promise<string> {
  return ensureGoBinary(helmBinary);
}

// `npx tsx test/chart/helm-binary.ts`: build (or reuse) helm and print its path.
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.stdout.write(`${await ensureHelm()}\n`);
}
