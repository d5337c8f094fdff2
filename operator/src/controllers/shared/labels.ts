import { LABEL_PREFIX } from "../../api/group.js";

/** Label keys the operator sets on everything it creates. */
export const Labels = {
  managedBy: "app.kubernetes.io/managed-by",
  name: "app.kubernetes.io/name",
  instance: "app.kubernetes.io/instance",
  component: "app.kubernetes.io/component",
  trainingRun: `${LABEL_PREFIX}/training-run`,
  churnModel: `${LABEL_PREFIX}/churn-model`,
  scoringRun: `${LABEL_PREFIX}/scoring-run`,
  /** The model version a serving pod runs (a digest prefix); never its role. */
  version: `${LABEL_PREFIX}/version`,
} as const;

/** Value of app.kubernetes.io/managed-by on our objects; informers select on it. */
export const MANAGED_BY = "churn-operator";

/** Label selector matching every object the operator manages. */
export const managedSelector = `${Labels.managedBy}=${MANAGED_BY}`;
