import type { ChurnModel } from "../../api/churn-model.js";
import { childName } from "../shared/child-name.js";

/** The short form of a digest used in names and labels. */
export function versionLabel(digest: string): string {
  return digest.slice(0, 10);
}

/**
 * Name of the Deployment (and, in router mode, the Service) of one model version:
 * `<model>-<digest prefix>`. Named by version, not by role, so promoting a canary to stable
 * renames nothing and restarts no pod.
 */
export function versionDeploymentName(model: ChurnModel, digest: string): string {
  return childName(model.metadata?.name ?? "", versionLabel(digest));
}

/**
 * Name of the headless Service of one version's ready pods (router mode):
 * `<model>-<digest prefix>-pods`. Its DNS name answers every ready pod's address, which the
 * router balances HTTP requests and gRPC calls over (a ClusterIP balances connections only).
 */
export function versionPodsServiceName(model: ChurnModel, digest: string): string {
  return childName(model.metadata?.name ?? "", `${versionLabel(digest)}-pods`);
}

/** Name of the scoring Service: the ChurnModel's own name (what applications call). */
export function servingServiceName(model: ChurnModel): string {
  return model.metadata?.name ?? "";
}

/** Name of the router's Deployment, ServiceAccount, Role and RoleBinding. */
export function routerName(model: ChurnModel): string {
  return childName(model.metadata?.name ?? "", "router");
}

/** Name of the ConfigMap the router watches for its weights. */
export function trafficConfigMapName(model: ChurnModel): string {
  return childName(model.metadata?.name ?? "", "traffic");
}

/** In-cluster URL of the scoring Service. */
export function servingEndpoint(model: ChurnModel, port: number): string {
  return `http://${servingServiceName(model)}.${model.metadata?.namespace}.svc:${port}`;
}
