import type { V1ObjectMeta, V1OwnerReference } from "@kubernetes/client-node";
import type { KubeObject } from "../../kube/kube-object.js";

/** A controller owner reference to `owner`: its children are garbage-collected with it. */
export function controllerRef(owner: KubeObject): V1OwnerReference {
  const m = owner.metadata;
  if (!owner.apiVersion || !owner.kind || !m?.name || !m.uid) {
    throw new Error("owner reference needs apiVersion, kind, name and uid");
  }
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: m.name,
    uid: m.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** The metadata of an object `owner` controls: its name, the owner's namespace, labels, the owner reference. */
export function childMetadata(
  owner: KubeObject,
  name: string,
  labels: Record<string, string>,
): Required<Pick<V1ObjectMeta, "name" | "labels" | "ownerReferences">> & { namespace?: string } {
  return {
    name,
    namespace: owner.metadata?.namespace,
    labels,
    ownerReferences: [controllerRef(owner)],
  };
}
