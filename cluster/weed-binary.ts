import { pathToFileURL } from "node:url";
import { GO_BUILDS } from "./build-cache.mjs";
import { ensureGoBinary, type GoBinary } from "./go-binary.js";

/** The pinned SeaweedFS (a pseudo-version: upstream tags no module versions). */
export const WEED_VERSION = GO_BUILDS.weed;

/**
 * `weed`, SeaweedFS's one binary (master, volume, filer and the S3 gateway): the S3-compatible
 * object store of the local cluster and of the storage tests. Built with no build tags (the
 * optional filer stores and rclone remotes stay out), statically, from the Go module proxy.
 */
export const weedBinary: GoBinary = {
  name: "weed",
  module: "github.com/seaweedfs/seaweedfs",
  pkg: "weed",
  version: WEED_VERSION,
  keepReplaces: true,
  ldflags: () =>
    `-s -w -X github.com/seaweedfs/seaweedfs/weed/util/version.COMMIT=${WEED_VERSION.slice(-12)}`,
};

/** Path of the pinned `weed`, built from the Go module proxy on first use and cached. */
export function ensureWeed(): Promise<string> {
  return ensureGoBinary(weedBinary);
}

// `npx tsx cluster/weed-binary.ts`: build (or reuse) weed and print its path.
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.stdout.write(`${await ensureWeed()}\n`);
}
