import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import type {
  V1ConfigMap,
  V1DownwardAPIVolumeFile,
  V1KeyToPath,
  V1PersistentVolume,
  V1PersistentVolumeClaim,
  V1Pod,
  V1ProjectedVolumeSource,
  V1Secret,
  V1ServiceAccountTokenProjection,
  V1Volume,
  V1VolumeProjection,
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

/** What every volume writer needs: the pod, its namespace, the volume's directory, the apiserver. */
interface VolumeContext {
  pod: V1Pod;
  ns: string;
  dir: string;
  source: PodVolumeSource;
}

/** The parts of a ConfigMap/Secret reference (volume or projection) that decide what is written. */
interface KeyRef {
  optional?: boolean;
  items?: V1KeyToPath[];
}

/** Checks or creates a hostPath the way the kubelet does for its `type`. */
function ensureHostPath(path: string, type: string): void {
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
}

/** The host path of the bound PV behind a claim; not ready while the claim is missing or unbound. */
async function persistentVolumePath(
  ns: string,
  claim: string,
  source: PodVolumeSource,
): Promise<string> {
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
  return path;
}

/** Writes a ConfigMap's keys; a missing optional ConfigMap writes nothing. */
async function writeConfigMap(
  ctx: VolumeContext,
  name: string,
  ref: KeyRef,
  mode: number,
): Promise<void> {
  const cm = await ctx.source.configMap(ctx.ns, name);
  if (!cm) {
    if (ref.optional) return;
    throw new ContainerConfigError(`configmap "${name}" not found`);
  }
  const optional = ref.optional ?? false;
  writeKeys(ctx.dir, configMapData(cm), ref.items, mode, `configmap ${name}`, optional);
}

/** Writes a Secret's keys; a missing optional Secret writes nothing. */
async function writeSecret(
  ctx: VolumeContext,
  name: string,
  ref: KeyRef,
  mode: number,
): Promise<void> {
  const s = await ctx.source.secret(ctx.ns, name);
  if (!s) {
    if (ref.optional) return;
    throw new ContainerConfigError(`secret "${name}" not found`);
  }
  const optional = ref.optional ?? false;
  writeKeys(ctx.dir, secretData(s), ref.items, mode, `secret ${name}`, optional);
}

/** Writes a bound service-account token and returns when it should be refreshed. */
async function writeServiceAccountToken(
  ctx: VolumeContext,
  t: V1ServiceAccountTokenProjection,
  mode: number,
): Promise<Date> {
  const ttl = t.expirationSeconds ?? 3600;
  const { token, expiresAt } = await ctx.source.serviceAccountToken(ctx.pod, {
    audience: t.audience,
    expirationSeconds: ttl,
  });
  writeFile(ctx.dir, t.path, token, mode);
  // Like the kubelet: refresh once 80% of the token's lifetime has passed.
  return new Date(Date.now() + 0.8 * (expiresAt.getTime() - Date.now()));
}

/** Writes one source of a projected volume; returns a refresh time for token sources. */
async function writeProjection(
  ctx: VolumeContext,
  volumeName: string,
  src: V1VolumeProjection,
  mode: number,
): Promise<Date | undefined> {
  if (src.serviceAccountToken) return writeServiceAccountToken(ctx, src.serviceAccountToken, mode);
  if (src.configMap) await writeConfigMap(ctx, src.configMap.name ?? "", src.configMap, mode);
  else if (src.secret) await writeSecret(ctx, src.secret.name ?? "", src.secret, mode);
  else if (src.downwardAPI) {
    writeDownward(ctx.dir, ctx.pod, src.downwardAPI.items ?? [], mode, ctx.source);
  } else {
    throw new ContainerConfigError(
      `projected volume ${volumeName}: unsupported source ${Object.keys(src).join(",")}`,
    );
  }
  return undefined;
}

/** Writes every source of a projected volume, refreshing when its earliest token is due. */
async function prepareProjected(
  ctx: VolumeContext,
  volumeName: string,
  projected: V1ProjectedVolumeSource,
): Promise<PreparedVolume> {
  const mode = projected.defaultMode ?? 0o644;
  let refreshAt: Date | undefined;
  for (const src of projected.sources ?? []) {
    const at = await writeProjection(ctx, volumeName, src, mode);
    if (at && (!refreshAt || at < refreshAt)) refreshAt = at;
  }
  return { hostPath: ctx.dir, refreshAt };
}

/** Fills the volume's own directory from its source; false when the type is not supported. */
async function fillVolumeDir(ctx: VolumeContext, volume: V1Volume): Promise<boolean> {
  if (volume.emptyDir) return true;
  if (volume.configMap) {
    const mode = volume.configMap.defaultMode ?? 0o644;
    await writeConfigMap(ctx, volume.configMap.name ?? "", volume.configMap, mode);
    return true;
  }
  if (volume.secret) {
    const mode = volume.secret.defaultMode ?? 0o644;
    await writeSecret(ctx, volume.secret.secretName ?? "", volume.secret, mode);
    return true;
  }
  if (volume.downwardAPI) {
    const mode = volume.downwardAPI.defaultMode ?? 0o644;
    writeDownward(ctx.dir, ctx.pod, volume.downwardAPI.items ?? [], mode, ctx.source);
    return true;
  }
  return false;
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
  if (volume.hostPath) {
    ensureHostPath(volume.hostPath.path, volume.hostPath.type ?? "");
    return { hostPath: volume.hostPath.path };
  }
  if (volume.persistentVolumeClaim) {
    const claim = volume.persistentVolumeClaim.claimName;
    return { hostPath: await persistentVolumePath(ns, claim, source) };
  }
  const ctx: VolumeContext = { pod, ns, dir: join(podDir, "volumes", volume.name), source };
  mkdirSync(ctx.dir, { recursive: true });
  if (await fillVolumeDir(ctx, volume)) return { hostPath: ctx.dir };
  if (volume.projected) return prepareProjected(ctx, volume.name, volume.projected);
  const kinds = Object.keys(volume).filter((k) => k !== "name");
  throw new ContainerConfigError(
    `volume ${volume.name}: type ${kinds.join(",")} is not supported by the process node`,
  );
}
