// The programs built from the Go module proxy and cached outside the repository: their pins,
// where the cache lives and whether a build finished. Plain Node (typed by build-cache.d.mts)
// because the set-up's preflight reads it before node_modules exists.
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** The oldest Go that builds every pin: the generated modules' `go` line (GOTOOLCHAIN=local). */
export const GO_MIN_VERSION = "1.26.0";

/**
 * Pinned versions by cache folder. Changing a pin is the only thing that triggers a rebuild.
 * etcd 3.6: Debian's 3.4 lacks the watch features current apiservers rely on. Prometheus 3.x
 * releases are tagged v0.3xx.y for Go (promtool). SeaweedFS (weed, the S3 server of the local
 * cluster and the storage tests) publishes no module tags: a pseudo-version of its master.
 */
export const GO_BUILDS = Object.freeze({
  etcd: "v3.6.16",
  k8s: "v1.37.2",
  helm: "v3.22.0",
  promtool: "v0.316.0",
  weed: "v0.0.0-20261109003541-7506e5f91cd6",
});

/** Root of the cache: `$CHURN_CLUSTER_CACHE`, else `${XDG_CACHE_HOME:-~/.cache}/churn-operator`. */
export function cacheRoot(env = process.env) {
  if (env.CHURN_CLUSTER_CACHE) return env.CHURN_CLUSTER_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "churn-operator");
}

/** Where a build's binaries land: `<cache>/<name>/<version>/bin`. */
export function goBuildBinDir(name, env = process.env) {
  return join(cacheRoot(env), name, GO_BUILDS[name], "bin");
}

/** True when the pinned build of `name` finished (its completion marker is in place). */
export function isBuilt(name, env = process.env) {
  return existsSync(join(goBuildBinDir(name, env), ".complete"));
}
