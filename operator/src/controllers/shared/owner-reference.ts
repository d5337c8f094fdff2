import type { V1OwnerReference } from "@kubernetes/client-node";
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
