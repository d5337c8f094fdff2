/** A parsed model store location. */
export interface ArtifactLocation {
  scheme: "pvc";
  claimName: string;
  /** Path of the artifact directory inside the volume (the digest, for our own store). */
  path: string;
}

/** The URI of an artifact in a PVC model store: `pvc://<claim>/<digest>`. */
export function pvcArtifactUri(claimName: string, digest: string): string {
  return `pvc://${claimName}/${digest}`;
}

/**
 * Parses an artifact URI. Only pvc:// is served today; other schemes (s3://) are named in the
 * error so the user knows it is the scheme, not the spelling, that is unsupported.
 */
export function parseArtifactUri(uri: string): ArtifactLocation {
  const m = /^([a-z0-9+.-]+):\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!m) throw new Error(`artifact uri ${JSON.stringify(uri)} is not <scheme>://<volume>/<path>`);
  const [, scheme, claimName, path] = m as unknown as [string, string, string, string];
  if (scheme !== "pvc") {
    throw new Error(`artifact uri scheme ${scheme}:// is not supported yet (use pvc://)`);
  }
  if (path.split("/").some((p) => p === ".." || p === "")) {
    throw new Error(`artifact uri ${JSON.stringify(uri)} has an empty or .. path segment`);
  }
  return { scheme, claimName, path };
}
