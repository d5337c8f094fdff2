import type { ChurnModel } from "../../api/churn-model.js";
import { childName } from "../shared/child-name.js";
import type { Variant } from "./desired-variants.js";

/** Name of a variant's Deployment: `<model>-<variant>`. */
export function variantDeploymentName(model: ChurnModel, variant: Variant["name"]): string {
  return childName(model.metadata?.name ?? "", variant);
}

/** Name of the scoring Service: the ChurnModel's own name (what applications call). */
export function servingServiceName(model: ChurnModel): string {
  return model.metadata?.name ?? "";
}

/** In-cluster URL of the scoring Service. */
export function servingEndpoint(model: ChurnModel, port: number): string {
  return `http://${servingServiceName(model)}.${model.metadata?.namespace}.svc:${port}`;
}
