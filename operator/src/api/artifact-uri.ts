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

/** An artifact in an S3 model store: `s3://<bucket>/<prefix>/<digest>/` (the trainer's layout). */
export interface S3ArtifactLocation {
  bucket: string;
  /** Key prefix of the artifact directory, ending in `<digest>/`. */
  key: string;
  digest: string;
}

/** True for an `s3://` artifact URI (served by downloading it first). */
export function isS3ArtifactUri(uri: string): boolean {
  return uri.startsWith("s3://");
}

/**
 * Parses `s3://bucket/prefix/<digest>/`; the last path segment must be the artifact's digest,
 * since the trainer publishes each artifact under its digest with a `_COMPLETE` manifest.
 */
export function parseS3ArtifactUri(uri: string, digest: string): S3ArtifactLocation {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/((?:[^/]+\/)*([0-9a-f]{64})\/?)$/.exec(
    uri,
  );
  if (!m) {
    throw new Error(
      `artifact uri ${JSON.stringify(uri)} is not s3://<bucket>/<prefix>/<sha256 digest>/`,
    );
  }
  const [, bucket, key, last] = m as unknown as [string, string, string, string];
  if (last !== digest) {
    throw new Error(`artifact uri ${JSON.stringify(uri)} is not the directory of digest ${digest}`);
  }
  return { bucket, key: key.endsWith("/") ? key : `${key}/`, digest };
}

/** Throws, naming the problem, unless `uri` is a servable artifact URI for `digest`. */
export function checkArtifactUri(uri: string, digest: string): void {
  if (isS3ArtifactUri(uri)) parseS3ArtifactUri(uri, digest);
  else parseArtifactUri(uri);
}
