import type {
  V1ConfigMap,
  V1Container,
  V1EnvVar,
  V1EnvVarSource,
  V1Pod,
  V1ResourceFieldSelector,
  V1Secret,
} from "@kubernetes/client-node";

/** Reads the ConfigMaps and Secrets a pod refers to; `null` when one does not exist. */
export interface PodObjectSource {
  configMap(namespace: string, name: string): Promise<V1ConfigMap | null>;
  secret(namespace: string, name: string): Promise<V1Secret | null>;
}

/** A container's config cannot be built (missing ConfigMap key, unsupported field...). */
export class ContainerConfigError extends Error {
  override name = "ContainerConfigError";
}

/**
 * Expands `$(VAR)` references the way the kubelet does: defined variables are substituted,
 * `$$` escapes a dollar, and references to undefined variables are left as written.
 */
export function expandVars(input: string, vars: Record<string, string>): string {
  let out = "";
  for (let i = 0; i < input.length; i++) {
    const c = input[i];
    if (c === "$" && input[i + 1] === "$") {
      out += "$";
      i++;
    } else if (c === "$" && input[i + 1] === "(") {
      const end = input.indexOf(")", i + 2);
      if (end < 0) {
        out += input.slice(i);
        break;
      }
      const name = input.slice(i + 2, end);
      out += name in vars ? vars[name] : input.slice(i, end + 1);
      i = end;
    } else {
      out += c;
    }
  }
  return out;
}

const decode = (b64: string) => Buffer.from(b64, "base64").toString("utf8");

/** Data of a ConfigMap or Secret as strings (Secret values base64-decoded). */
function dataOf(obj: V1ConfigMap | V1Secret, kind: "ConfigMap" | "Secret"): Record<string, string> {
  if (kind === "Secret") {
    const s = obj as V1Secret;
    return {
      ...Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, decode(v)])),
      ...(s.stringData ?? {}),
    };
  }
  const cm = obj as V1ConfigMap;
  return {
    ...(cm.data ?? {}),
    ...Object.fromEntries(Object.entries(cm.binaryData ?? {}).map(([k, v]) => [k, decode(v)])),
  };
}

/**
 * Resolves a downward-API field path (`metadata.name`, `metadata.labels['app']`,
 * `status.podIP`...) against the pod.
 */
export function podFieldValue(pod: V1Pod, fieldPath: string): string {
  const meta = pod.metadata ?? {};
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (m) return meta[m[1] as "labels" | "annotations"]?.[m[2] as string] ?? "";
  const map = (o: Record<string, string> | undefined) =>
    Object.entries(o ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join("\n");
  switch (fieldPath) {
    case "metadata.name":
      return meta.name ?? "";
    case "metadata.namespace":
      return meta.namespace ?? "";
    case "metadata.uid":
      return meta.uid ?? "";
    case "metadata.labels":
      return map(meta.labels);
    case "metadata.annotations":
      return map(meta.annotations);
    case "spec.nodeName":
      return pod.spec?.nodeName ?? "";
    case "spec.serviceAccountName":
      return pod.spec?.serviceAccountName ?? "";
    case "status.podIP":
      return pod.status?.podIP ?? "";
    case "status.podIPs":
      return (pod.status?.podIPs ?? []).map((p) => p.ip).join(",");
    case "status.hostIP":
      return pod.status?.hostIP ?? "";
    case "status.hostIPs":
      return (pod.status?.hostIPs ?? []).map((p) => p.ip).join(",");
    default:
      throw new ContainerConfigError(`unsupported fieldRef fieldPath "${fieldPath}"`);
  }
}

/**
 * Resolves a resourceFieldRef to the container's request or limit (limits default to the
 * node's allocatable, as on a real node), scaled by `divisor` (only "1", "1m", "1Mi" and the
 * like are supported).
 */
export function resourceFieldValue(
  container: V1Container | undefined,
  resource: string,
  divisor: string | undefined,
  nodeAllocatable: { cpu: number; memoryBytes: number },
): string {
  const [kind, name] = resource.split(".");
  const spec = kind === "limits" ? container?.resources?.limits : container?.resources?.requests;
  const raw = spec?.[name as string];
  const quantity = raw === undefined ? undefined : parseQuantity(String(raw));
  let value: number;
  if (name === "cpu") value = quantity ?? (kind === "limits" ? nodeAllocatable.cpu : 0);
  else if (name === "memory" || name === "ephemeral-storage")
    value = quantity ?? (kind === "limits" ? nodeAllocatable.memoryBytes : 0);
  else throw new ContainerConfigError(`unsupported resourceFieldRef resource "${resource}"`);
  const div = parseQuantity(divisor ?? "1");
  return String(Math.ceil(value / div));
}

/** Parses a Kubernetes quantity ("500m", "1Gi", "2") into a number of base units. */
export function parseQuantity(q: string): number {
  const m = /^([0-9.]+)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(q.trim());
  if (!m) throw new ContainerConfigError(`cannot parse quantity "${q}"`);
  const scale: Record<string, number> = {
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    Ki: 1024,
    Mi: 1024 ** 2,
    Gi: 1024 ** 3,
    Ti: 1024 ** 4,
  };
  return Number(m[1]) * (m[2] ? (scale[m[2]] as number) : 1);
}

/** What resolving one container's environment needs. */
interface EnvContext {
  pod: V1Pod;
  container: V1Container;
  ns: string;
  source: PodObjectSource;
  nodeAllocatable: { cpu: number; memoryBytes: number };
}

type ObjectKind = "ConfigMap" | "Secret";

/** The data of a referenced ConfigMap or Secret; `null` when it is missing and optional. */
async function fetchData(
  ctx: EnvContext,
  kind: ObjectKind,
  name: string,
  optional: boolean,
): Promise<Record<string, string> | null> {
  const obj =
    kind === "ConfigMap"
      ? await ctx.source.configMap(ctx.ns, name)
      : await ctx.source.secret(ctx.ns, name);
  if (!obj) {
    if (optional) return null;
    throw new ContainerConfigError(`${kind.toLowerCase()} "${name}" not found`);
  }
  return dataOf(obj, kind);
}

/** Adds every key of the container's `envFrom` sources, prefixed, in order. */
async function addEnvFrom(ctx: EnvContext, env: Record<string, string>): Promise<void> {
  for (const from of ctx.container.envFrom ?? []) {
    const prefix = from.prefix ?? "";
    const ref = from.configMapRef ?? from.secretRef;
    const kind = from.configMapRef ? "ConfigMap" : "Secret";
    if (!ref?.name) continue;
    const data = await fetchData(ctx, kind, ref.name, ref.optional ?? false);
    for (const [k, v] of Object.entries(data ?? {})) env[prefix + k] = v;
  }
}

/** A resourceFieldRef's value, for this container or the one it names. */
function resourceEnvValue(ctx: EnvContext, ref: V1ResourceFieldSelector): string {
  const { pod } = ctx;
  const target = ref.containerName
    ? [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find(
        (c) => c.name === ref.containerName,
      )
    : ctx.container;
  const divisor = ref.divisor === undefined ? undefined : String(ref.divisor);
  return resourceFieldValue(target, ref.resource, divisor, ctx.nodeAllocatable);
}

/** A configMapKeyRef/secretKeyRef's value; `undefined` when an optional source or key is missing. */
async function keyRefEnvValue(
  ctx: EnvContext,
  envName: string,
  vf: V1EnvVarSource,
): Promise<string | undefined> {
  const ref = vf.configMapKeyRef ?? vf.secretKeyRef;
  const kind = vf.configMapKeyRef ? "ConfigMap" : "Secret";
  if (!ref?.name) throw new ContainerConfigError(`env ${envName}: ${kind} reference has no name`);
  const data = await fetchData(ctx, kind, ref.name, ref.optional ?? false);
  if (data === null) return undefined;
  const value = data[ref.key];
  if (value === undefined && !ref.optional) {
    throw new ContainerConfigError(
      `couldn't find key ${ref.key} in ${kind} ${ctx.ns}/${ref.name} (env ${envName})`,
    );
  }
  return value;
}

/** One `env` entry's value given the variables so far; `undefined` leaves it unset. */
async function envEntryValue(
  ctx: EnvContext,
  e: V1EnvVar,
  env: Record<string, string>,
): Promise<string | undefined> {
  const vf = e.valueFrom;
  if (e.value !== undefined || !vf) return expandVars(e.value ?? "", env);
  if (vf.fieldRef) return podFieldValue(ctx.pod, vf.fieldRef.fieldPath);
  if (vf.resourceFieldRef) return resourceEnvValue(ctx, vf.resourceFieldRef);
  if (vf.configMapKeyRef || vf.secretKeyRef) return keyRefEnvValue(ctx, e.name, vf);
  throw new ContainerConfigError(`env ${e.name}: unsupported valueFrom`);
}

/**
 * A container's environment in the kubelet's order: `base` (image env, service links), then
 * `envFrom` sources, then `env` entries, each able to reference earlier ones with `$(VAR)`.
 */
export async function containerEnv(
  pod: V1Pod,
  container: V1Container,
  base: Record<string, string>,
  source: PodObjectSource,
  nodeAllocatable: { cpu: number; memoryBytes: number },
): Promise<Record<string, string>> {
  const ns = pod.metadata?.namespace ?? "default";
  const ctx: EnvContext = { pod, container, ns, source, nodeAllocatable };
  const env: Record<string, string> = { ...base };
  await addEnvFrom(ctx, env);
  for (const e of container.env ?? []) {
    const value = await envEntryValue(ctx, e, env);
    if (value !== undefined) env[e.name] = value;
  }
  return env;
}
