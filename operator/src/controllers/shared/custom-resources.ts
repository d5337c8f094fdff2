import { GROUP, VERSION } from "../../api/group.js";
import type { ResourceType } from "../../kube/resource-type.js";

/** The TrainingRun resource type. */
export const trainingRunType: ResourceType = {
  group: GROUP,
  version: VERSION,
  kind: "TrainingRun",
  plural: "trainingruns",
  namespaced: true,
};

/** The ChurnModel resource type. */
export const churnModelType: ResourceType = {
  group: GROUP,
  version: VERSION,
  kind: "ChurnModel",
  plural: "churnmodels",
  namespaced: true,
};

/** The ScoringRun resource type. */
export const scoringRunType: ResourceType = {
  group: GROUP,
  version: VERSION,
  kind: "ScoringRun",
  plural: "scoringruns",
  namespaced: true,
};
