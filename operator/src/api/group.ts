/** API group of the project's custom resources. */
export const GROUP = "churn.mlops.dev";
/** The served and stored version. */
export const VERSION = "v1alpha1";
/** apiVersion string of the project's custom resources. */
export const API_VERSION = `${GROUP}/${VERSION}`;
/** Field manager name for every write the operator makes (constant, so applies converge). */
export const FIELD_MANAGER = "churn-operator";
/** Field manager holding an autoscaled Deployment's spec.replicas (set once, then the HPA's). */
export const REPLICAS_HANDOVER_MANAGER = "churn-operator-replicas-handover";
/** Label and annotation prefix owned by the operator. */
export const LABEL_PREFIX = GROUP;
