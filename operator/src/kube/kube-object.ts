import type { V1ObjectMeta } from "@kubernetes/client-node";

/** The common shape of every Kubernetes object as it travels over the wire (JSON). */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
}

/** A list answer: items plus the collection's resourceVersion to watch from. */
export interface KubeList<T> {
  items: T[];
  metadata: { resourceVersion?: string; continue?: string };
}

/** One event of a watch stream. */
export interface WatchEvent<T> {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: T;
}

/** `namespace/name` (or `name` for cluster-scoped objects): the work-queue and cache key. */
export function objectKey(obj: KubeObject): string {
  const name = obj.metadata?.name ?? "";
  const ns = obj.metadata?.namespace;
  return ns ? `${ns}/${name}` : name;
}

/** Splits a key made by objectKey back into namespace and name. */
export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const i = key.indexOf("/");
  return i < 0
    ? { namespace: undefined, name: key }
    : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}
