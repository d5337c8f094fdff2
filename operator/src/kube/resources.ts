import type { ResourceType } from "./resource-type.js";

/** The built-in resource types the operator reads or writes. */
export const Resources = {
  pods: { group: "", version: "v1", kind: "Pod", plural: "pods", namespaced: true },
  configMaps: {
    group: "",
    version: "v1",
    kind: "ConfigMap",
    plural: "configmaps",
    namespaced: true,
  },
  services: { group: "", version: "v1", kind: "Service", plural: "services", namespaced: true },
  serviceAccounts: {
    group: "",
    version: "v1",
    kind: "ServiceAccount",
    plural: "serviceaccounts",
    namespaced: true,
  },
  events: { group: "", version: "v1", kind: "Event", plural: "events", namespaced: true },
  namespaces: {
    group: "",
    version: "v1",
    kind: "Namespace",
    plural: "namespaces",
    namespaced: false,
  },
  jobs: { group: "batch", version: "v1", kind: "Job", plural: "jobs", namespaced: true },
  deployments: {
    group: "apps",
    version: "v1",
    kind: "Deployment",
    plural: "deployments",
    namespaced: true,
  },
  horizontalPodAutoscalers: {
    group: "autoscaling",
    version: "v2",
    kind: "HorizontalPodAutoscaler",
    plural: "horizontalpodautoscalers",
    namespaced: true,
  },
  roles: {
    group: "rbac.authorization.k8s.io",
    version: "v1",
    kind: "Role",
    plural: "roles",
    namespaced: true,
  },
  roleBindings: {
    group: "rbac.authorization.k8s.io",
    version: "v1",
    kind: "RoleBinding",
    plural: "rolebindings",
    namespaced: true,
  },
  leases: {
    group: "coordination.k8s.io",
    version: "v1",
    kind: "Lease",
    plural: "leases",
    namespaced: true,
  },
  customResourceDefinitions: {
    group: "apiextensions.k8s.io",
    version: "v1",
    kind: "CustomResourceDefinition",
    plural: "customresourcedefinitions",
    namespaced: false,
  },
} as const satisfies Record<string, ResourceType>;
