import type { V1Service } from "@kubernetes/client-node";
import type { ChurnModel } from "../../api/churn-model.js";
import { Labels, MANAGED_BY } from "../shared/labels.js";
import { childMetadata } from "../shared/owner-reference.js";
import { routerSelector } from "./build-router.js";
import { servingSelector } from "./build-serving-deployment.js";
import { servingServiceName } from "./serving-names.js";
import { runtimeServicePorts } from "./serving-ports.js";

/**
 * The ClusterIP Service applications call: in front of the router (router traffic), or of
 * every serving pod of the model (replicas traffic and direct: the split is the pod ratio).
 */
export function buildServingService(model: ChurnModel, viaRouter = false): V1Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: childMetadata(model, servingServiceName(model), {
      [Labels.managedBy]: MANAGED_BY,
      [Labels.name]: "churn-runtime",
      [Labels.instance]: model.metadata?.name ?? "",
      [Labels.churnModel]: model.metadata?.name ?? "",
    }),
    spec: {
      type: "ClusterIP",
      selector: viaRouter ? routerSelector(model) : servingSelector(model),
      ports: runtimeServicePorts(model),
    },
  };
}
