import { posix } from "node:path";
import type { V1Volume, V1VolumeMount } from "@kubernetes/client-node";

/** The volume-backed source kinds a Job reads a data file from (a URL needs no volume). */
export interface FileSource {
  url?: string | undefined;
  persistentVolumeClaim?: { claimName: string; path: string } | undefined;
  hostPath?: { path: string } | undefined;
}

/** A source as the Job's pod sees it: a read-only volume (if any) and the file's path or URL. */
export interface MountedSource {
  volume?: V1Volume;
  mount?: V1VolumeMount;
  location: string;
}

/**
 * Mounts a data source read-only at `mountPath` as volume `name`: a PVC whole, a host file's
 * directory; a URL is read as it is. Undefined for a kind this helper does not mount (s3).
 */
export function mountDataSource(
  source: FileSource,
  name: string,
  mountPath: string,
): MountedSource | undefined {
  if (source.url) return { location: source.url };
  const mount: V1VolumeMount = { name, mountPath, readOnly: true };
  if (source.persistentVolumeClaim) {
    const { claimName, path } = source.persistentVolumeClaim;
    return {
      volume: { name, persistentVolumeClaim: { claimName, readOnly: true } },
      mount,
      location: posix.join(mountPath, path),
    };
  }
  if (source.hostPath) {
    const { path } = source.hostPath;
    return {
      volume: { name, hostPath: { path: posix.dirname(path), type: "Directory" } },
      mount,
      location: posix.join(mountPath, posix.basename(path)),
    };
  }
  return undefined;
}
