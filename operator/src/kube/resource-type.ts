/** Identifies a REST resource of the Kubernetes API: enough to build its URL paths. */
export interface ResourceType {
  /** API group; "" for the core group. */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** Lower-case plural as used in URLs, e.g. "deployments". */
  readonly plural: string;
  readonly namespaced: boolean;
}

/** apiVersion string of a resource type, e.g. "apps/v1" or "v1". */
export function apiVersionOf(type: ResourceType): string {
  return type.group === "" ? type.version : `${type.group}/${type.version}`;
}

/** URL path of a collection or one object, optionally a subresource such as "status". */
export function resourcePath(
  type: ResourceType,
  namespace?: string,
  name?: string,
  subresource?: string,
): string {
  const base = type.group === "" ? `/api/${type.version}` : `/apis/${type.group}/${type.version}`;
  if (type.namespaced && namespace === undefined && name !== undefined) {
    throw new Error(`${type.kind} ${name}: a namespace is required for a namespaced resource`);
  }
  const ns = type.namespaced && namespace !== undefined ? `/namespaces/${enc(namespace)}` : "";
  const obj = name === undefined ? "" : `/${enc(name)}`;
  const sub = subresource === undefined ? "" : `/${subresource}`;
  return `${base}${ns}/${type.plural}${obj}${sub}`;
}

const enc = encodeURIComponent;
