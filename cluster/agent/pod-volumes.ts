import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import type {
  V1ConfigMap,
  V1DownwardAPIVolumeFile,
  V1KeyToPath,
  V1PersistentVolume,
  V1PersistentVolumeClaim,
  V1Pod,
  V1Secret,
  V1Volume,
} from "@kubernetes/client-node";
import {
  ContainerConfigError,
  type PodObjectSource,
  podFieldValue,
  resourceFieldValue,
} from "./container-env.js";

/** Everything volumes need from the apiserver, reached with the node's own identity. */
export interface PodVolumeSource extends PodObjectSource {
  /** A bound service-account token for the pod (TokenRequest API). */
  serviceAccountToken(
    pod: V1Pod,
    opts: { audience?: string; expirationSeconds: number },
  ): Promise<{ token: string; expiresAt: Date }>;
  persistentVolumeClaim(namespace: string, name: string): Promise<V1PersistentVolumeClaim | null>;
  persistentVolume(name: string): Promise<V1PersistentVolume | null>;
  /** PEM of the cluster CA, for `kube-root-ca.crt`-style projections. */
  readonly nodeAllocatable: { cpu: number; memoryBytes: number };
}

/** A volume is not ready yet (PVC unbound...): retry later rather than fail the pod. */
export class VolumeNotReadyError extends Error {
  override name = "VolumeNotReadyError";
}

/** A materialised volume: the host directory backing it, and when its tokens need refreshing. */
export interface PreparedVolume {
  hostPath: string;
  refreshAt?: Date;
}

function writeFile(dir: string, rel: string, content: string | Buffer, mode: number): void {
  const target = normalize(join(dir, rel));
  if (!target.startsWith(`${normalize(dir)}/`)) {
    throw new ContainerConfigError(`volume item path "${rel}" escapes the volume`);
  }
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, content);
  chmodSync(target, mode);
}

/** Writes ConfigMap/Secret data, honouring `items` (only the listed keys, renamed). */
function writeKeys(
  dir: string,
  data: Record<string, Buffer>,
  items: V1KeyToPath[] | undefined,
  defaultMode: number,
  what: string,
  optional: boolean,
): void {
  if (!items?.length) {
    for (const [k, v] of Object.entries(data)) writeFile(dir, k, v, defaultMode);
    return;
  }
  for (const item of items) {
    const v = data[item.key];
    if (v === undefined) {
      if (optional) continue;
      throw new ContainerConfigError(`${what} has no key "${item.key}"`);
    }
    writeFile(dir, item.path, v, item.mode ?? defaultMode);
  }
}

function configMapData(cm: V1ConfigMap): Record<string, Buffer> {
  return {
    ...Object.fromEntries(Object.entries(cm.data ?? {}).map(([k, v]) => [k, Buffer.from(v)])),
    ...Object.fromEntries(
      Object.entries(cm.binaryData ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64")]),
    ),
  };
}

function secretData(s: V1Secret): Record<string, Buffer> {
  return Object.fromEntries(
    Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64")]),
  );
}

function writeDownward(
  dir: string,
  pod: V1Pod,
  items: V1DownwardAPIVolumeFile[],
  mode: number,
  source: PodVolumeSource,
): void {
  for (const item of items) {
    let value: string;
    if (item.fieldRef) value = podFieldValue(pod, item.fieldRef.fieldPath);
    else if (item.resourceFieldRef) {
      const c = pod.spec?.containers.find((x) => x.name === item.resourceFieldRef?.containerName);
      value = resourceFieldValue(
        c,
        item.resourceFieldRef.resource,
        item.resourceFieldRef.divisor === undefined
          ? undefined
          : String(item.resourceFieldRef.divisor),
        source.nodeAllocatable,
      );
    } else throw new ContainerConfigError(`downwardAPI item "${item.path}" has no source`);
    writeFile(dir, item.path, value, item.mode ?? mode);
  }
}

/**
 * Materialises one pod volume as a host directory under `podDir/volumes/<name>` (or, for
 * hostPath and persistent volumes, the backing host path) and returns it.
 */
export async function prepareVolume(
  pod: V1Pod,
  volume: V1Volume,
  podDir: string,
  source: PodVolumeSource,
): Promise<PreparedVolume> {
  const ns = pod.metadata?.namespace ?? "default";
  const dir = join(podDir, "volumes", volume.name);
  if (volume.hostPath) {
    const path = volume.hostPath.path;
    const type = volume.hostPath.type ?? "";
    if (type === "DirectoryOrCreate" || (type === "" && !existsSync(path))) {
      mkdirSync(path, { recursive: true });
    } else if (type === "FileOrCreate" && !existsSync(path)) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, "");
    } else if (!existsSync(path)) {
      throw new ContainerConfigError(`hostPath ${path} (type ${type}) does not exist`);
    } else if (type === "Directory" && !statSync(path).isDirectory()) {
      throw new ContainerConfigError(`hostPath ${path} is not a directory`);
    }
    return { hostPath: path };
  }
  if (volume.persistentVolumeClaim) {
    const claim = volume.persistentVolumeClaim.claimName;
    const pvc = await source.persistentVolumeClaim(ns, claim);
    if (!pvc) throw new VolumeNotReadyError(`persistentvolumeclaim "${claim}" not found`);
    const pvName = pvc.spec?.volumeName;
    if (pvc.status?.phase !== "Bound" || !pvName) {
      throw new VolumeNotReadyError(`persistentvolumeclaim "${claim}" is not bound`);
    }
    const pv = await source.persistentVolume(pvName);
    const path = pv?.spec?.hostPath?.path ?? pv?.spec?.local?.path;
    if (!path) {
      throw new ContainerConfigError(
        `persistentvolume ${pvName} is neither hostPath nor local; the process node cannot mount it`,
      );
    }
    mkdirSync(path, { recursive: true });
    return { hostPath: path };
  }
  mkdirSync(dir, { recursive: true });
  if (volume.emptyDir) return { hostPath: dir };
  if (volume.configMap) {
    const name = volume.configMap.name ?? "";
    const cm = await source.configMap(ns, name);
    if (!cm) {
      if (volume.configMap.optional) return { hostPath: dir };
      throw new ContainerConfigError(`configmap "${name}" not found`);
    }
    const optional = volume.configMap.optional ?? false;
    const mode = volume.configMap.defaultMode ?? 0o644;
    writeKeys(dir, configMapData(cm), volume.configMap.items, mode, `configmap ${name}`, optional);
    return { hostPath: dir };
  }
  if (volume.secret) {
    const name = volume.secret.secretName ?? "";
    const s = await source.secret(ns, name);
    if (!s) {
      if (volume.secret.optional) return { hostPath: dir };
      throw new ContainerConfigError(`secret "${name}" not found`);
    }
    const optional = volume.secret.optional ?? false;
    const mode = volume.secret.defaultMode ?? 0o644;
    writeKeys(dir, secretData(s), volume.secret.items, mode, `secret ${name}`, optional);
    return { hostPath: dir };
  }
  if (volume.downwardAPI) {
    const mode = volume.downwardAPI.defaultMode ?? 0o644;
    writeDownward(dir, pod, volume.downwardAPI.items ?? [], mode, source);
    return { hostPath: dir };
  }
  if (volume.projected) {
    const mode = volume.projected.defaultMode ?? 0o644;
    let refreshAt: Date | undefined;
    for (const src of volume.projected.sources ?? []) {
      if (src.serviceAccountToken) {
        const t = src.serviceAccountToken;
        const ttl = t.expirationSeconds ?? 3600;
        const { token, expiresAt } = await source.serviceAccountToken(pod, {
          audience: t.audience,
          expirationSeconds: ttl,
        });
        writeFile(dir, t.path, token, mode);
        // Like the kubelet: refresh once 80% of the token's lifetime has passed.
        const at = new Date(Date.now() + 0.8 * (expiresAt.getTime() - Date.now()));
        if (!refreshAt || at < refreshAt) refreshAt = at;
      } else if (src.configMap) {
        const name = src.configMap.name ?? "";
        const cm = await source.configMap(ns, name);
        if (!cm) {
          if (src.configMap.optional) continue;
          throw new ContainerConfigError(`configmap "${name}" not found`);
        }
        const optional = src.configMap.optional ?? false;
        writeKeys(dir, configMapData(cm), src.configMap.items, mode, `configmap ${name}`, optional);
      } else if (src.secret) {
        const name = src.secret.name ?? "";
        const s = await source.secret(ns, name);
        if (!s) {
          if (src.secret.optional) continue;
          throw new ContainerConfigError(`secret "${name}" not found`);
        }
        const optional = src.secret.optional ?? false;
        writeKeys(dir, secretData(s), src.secret.items, mode, `secret ${name}`, optional);
      } else if (src.downwardAPI) {
        writeDownward(dir, pod, src.downwardAPI.items ?? [], mode, source);
      } else {
        throw new ContainerConfigError(
          `projected volume ${volume.name}: unsupported source ${Object.keys(src).join(",")}`,
        );
      }
    }
    return { hostPath: dir, refreshAt };
  }
  const kinds = Object.keys(volume).filter((k) => k !== "name");
  throw new ContainerConfigError(
    `volume ${volume.name}: type ${kinds.join(",")} is not supported by the process node`,
  );
}
