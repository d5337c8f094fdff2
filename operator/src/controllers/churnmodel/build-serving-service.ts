import type { V1Service } from "@kubernetes/client-node";
import type { ChurnModel } from "../../api/churn-model.js";
import { Defaults } from "../../api/defaults.js";
import { Labels, MANAGED_BY } from "../shared/labels.js";
import { controllerRef } from "../shared/owner-reference.js";
import { servingSelector } from "./build-serving-deployment.js";
import { servingServiceName } from "./serving-names.js";

/** The ClusterIP Service in front of every serving variant of a model. */
export function buildServingService(model: ChurnModel): V1Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: servingServiceName(model),
      namespace: model.metadata?.namespace,
      labels: {
        [Labels.managedBy]: MANAGED_BY,
        [Labels.name]: "churn-runtime",
        [Labels.instance]: model.metadata?.name ?? "",
        [Labels.churnModel]: model.metadata?.name ?? "",
      },
      ownerReferences: [controllerRef(model)],
    },
    spec: {
      type: "ClusterIP",
      selector: servingSelector(model),
      ports: [{ name: "http", port: Defaults.servingPort, targetPort: "http", protocol: "TCP" }],
    },
  };
}
