import type {
  V1ConfigMap,
  V1Deployment,
  V1Role,
  V1RoleBinding,
  V1Service,
  V1ServiceAccount,
} from "@kubernetes/client-node";
import type { ChurnModel } from "../../api/churn-model.js";
import { Defaults } from "../../api/defaults.js";
import type { VersionRef } from "../../api/rollout.js";
import { Labels, MANAGED_BY } from "../shared/labels.js";
import { childMetadata } from "../shared/owner-reference.js";
import { containerSecurityContext, podSecurityContext } from "../shared/pod-hardening.js";
import type { ServingSettings } from "./build-serving-deployment.js";
import { versionSelector } from "./build-serving-deployment.js";
import { runtimeProbes } from "./runtime-probes.js";
import {
  routerName,
  trafficConfigMapName,
  versionDeploymentName,
  versionPodsServiceName,
} from "./serving-names.js";
import {
  runtimeContainerPorts,
  runtimeGrpcEnv,
  runtimeServicePorts,
  versionGrpcTarget,
  versionHttpTarget,
} from "./serving-ports.js";

// Router traffic: applications call the ChurnModel's Service, which selects router pods
// (`churn-runtime route`); the router sends each request to the stable or canary version's own
// Service by exact weight, sticky per customer, and may copy it to the canary to compare. Its
// weights come from a ConfigMap it watches through the API (a change reaches it in
// milliseconds, not a mounted volume's minute), with a Role allowing exactly that one object.

/** The key of the router's configuration in the traffic ConfigMap. */
export const TRAFFIC_KEY = "traffic.json";

/** The router's configuration: the contract between the operator and `churn-runtime route`. */
export interface TrafficConfig {
  /** The ChurnModel's name. */
  model: string;
  stable: VariantEndpoint;
  /** The canary, during a rollout: its share answered and its share mirrored (0-100). */
  canary: (VariantEndpoint & { weight: number; mirrorPercent: number }) | null;
  /** Header that keeps a caller on one variant; null: the model's id column in the body. */
  stickyHeader: string | null;
}

/**
 * Where the router reaches one version: its REST URL (the ClusterIP Service), its pods for
 * HTTP (`dns:///<headless Service>:<port>`, each request to one ready pod; the URL while the
 * name answers none) and, with gRPC on, its gRPC target (the same name, every ready pod; a
 * plain host:port is read too). Routers that predate `httpTarget` ignore it and use the URL.
 */
export interface VariantEndpoint {
  digest: string;
  url: string;
  httpTarget: string;
  grpcTarget?: string;
}

const labelsOf = (model: ChurnModel) => ({
  [Labels.managedBy]: MANAGED_BY,
  [Labels.name]: "churn-router",
  [Labels.instance]: model.metadata?.name ?? "",
  [Labels.churnModel]: model.metadata?.name ?? "",
  [Labels.component]: "router",
});

const meta = (model: ChurnModel, name: string) => childMetadata(model, name, labelsOf(model));

/** Labels selecting a model's router pods (the scoring Service's selector in router mode). */
export function routerSelector(model: ChurnModel): Record<string, string> {
  return { [Labels.churnModel]: model.metadata?.name ?? "", [Labels.component]: "router" };
}

/** The in-cluster URL of a version's own Service. */
export function versionUrl(model: ChurnModel, digest: string): string {
  const svc = versionDeploymentName(model, digest);
  return `http://${svc}.${model.metadata?.namespace}.svc:${Defaults.servingPort}`;
}

/** A version's endpoints, as traffic.json names them. */
function endpointOf(model: ChurnModel, digest: string): VariantEndpoint {
  const pods = versionPodsServiceName(model, digest);
  const grpcTarget = versionGrpcTarget(model, pods);
  return {
    digest,
    url: versionUrl(model, digest),
    httpTarget: versionHttpTarget(model, pods),
    ...(grpcTarget ? { grpcTarget } : {}),
  };
}

/** The router's configuration for a stable version and an optional canary. */
export function trafficConfig(
  model: ChurnModel,
  stable: VersionRef,
  canary: VersionRef | undefined,
  weight: number,
  mirrorPercent: number,
): TrafficConfig {
  return {
    model: model.metadata?.name ?? "",
    stable: endpointOf(model, stable.digest),
    canary: canary ? { ...endpointOf(model, canary.digest), weight, mirrorPercent } : null,
    stickyHeader: model.spec.rollout?.stickyHeader ?? null,
  };
}

/** The ConfigMap the router watches. */
export function buildTrafficConfigMap(model: ChurnModel, config: TrafficConfig): V1ConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: meta(model, trafficConfigMapName(model)),
    data: { [TRAFFIC_KEY]: `${JSON.stringify(config, null, 2)}\n` },
  };
}

/** A Service named `name` over one version's pods, with `spec` laid over selector and ports. */
const versionServiceOf = (
  model: ChurnModel,
  digest: string,
  name: string,
  spec: V1Service["spec"],
): V1Service => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: {
    ...meta(model, name),
    labels: { ...labelsOf(model), [Labels.name]: "churn-runtime", [Labels.component]: "serving" },
  },
  spec: { ...spec, selector: versionSelector(model, digest), ports: runtimeServicePorts(model) },
});

/**
 * A ClusterIP Service in front of one version's pods: what the router's HTTP calls while the
 * pods' name answers none, and what older routers call.
 */
export function buildVersionService(model: ChurnModel, digest: string): V1Service {
  return versionServiceOf(model, digest, versionDeploymentName(model, digest), {
    type: "ClusterIP",
  });
}

/**
 * The headless Service of one version's pods (what the router's HTTP and gRPC reach): no
 * ClusterIP, so its DNS name answers the address of every ready pod and the router balances
 * each request and call over them; a ClusterIP balances connections, which the router keeps
 * alive (HTTP) or keeps one of (gRPC).
 */
export function buildVersionPodsService(model: ChurnModel, digest: string): V1Service {
  return versionServiceOf(model, digest, versionPodsServiceName(model, digest), {
    clusterIP: "None",
    // Only Ready pods are answered: a pod still loading or draining gets no new requests.
    publishNotReadyAddresses: false,
  });
}

/** A version's Services in router mode: the ClusterIP one and the headless one. */
export function buildVersionServices(model: ChurnModel, digest: string): V1Service[] {
  return [buildVersionService(model, digest), buildVersionPodsService(model, digest)];
}

/** The router's identity: a token only for reading its own traffic ConfigMap. */
export function buildRouterServiceAccount(model: ChurnModel): V1ServiceAccount {
  return { apiVersion: "v1", kind: "ServiceAccount", metadata: meta(model, routerName(model)) };
}

/** Read and watch exactly the model's traffic ConfigMap, nothing else. */
export function buildRouterRole(model: ChurnModel): V1Role {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: meta(model, routerName(model)),
    rules: [
      {
        apiGroups: [""],
        resources: ["configmaps"],
        resourceNames: [trafficConfigMapName(model)],
        verbs: ["get", "list", "watch"],
      },
    ],
  };
}

/** Binds the router's Role to its ServiceAccount. */
export function buildRouterRoleBinding(model: ChurnModel): V1RoleBinding {
  const name = routerName(model);
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: meta(model, name),
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
    subjects: [{ kind: "ServiceAccount", name, namespace: model.metadata?.namespace }],
  };
}

/**
 * Router pods: none for a model scaled to zero (there is nothing to route to, and the router is
 * not Ready without a stable version to ask for its id column), one for one serving pod, two
 * from two on (no single point of failure).
 */
export function routerReplicas(replicas: number): number {
  return replicas <= 0 ? 0 : replicas >= 2 ? 2 : 1;
}

/** The router Deployment: the runtime image in `route` mode. */
export function buildRouterDeployment(model: ChurnModel, s: ServingSettings): V1Deployment {
  const port = Defaults.servingPort;
  const labels = labelsOf(model);
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: meta(model, routerName(model)),
    spec: {
      replicas: routerReplicas(model.spec.replicas),
      selector: { matchLabels: routerSelector(model) },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: routerName(model),
          securityContext: podSecurityContext(),
          terminationGracePeriodSeconds: 30,
          containers: [
            {
              name: "router",
              image: model.spec.image ?? s.runtimeImage,
              imagePullPolicy: s.imagePullPolicy,
              args: [
                "route",
                "--namespace",
                model.metadata?.namespace ?? "",
                "--traffic-config-map",
                trafficConfigMapName(model),
                "--port",
                String(port),
              ],
              env: [
                { name: "CHURN_RUNTIME_HOST", value: "0.0.0.0" },
                {
                  name: "CHURN_SHUTDOWN_DELAY_SECONDS",
                  value: String(Defaults.shutdownDelaySeconds),
                },
                ...runtimeGrpcEnv(model),
              ],
              ports: runtimeContainerPorts(model),
              ...runtimeProbes({ startup: false }),
              securityContext: containerSecurityContext(),
              volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
            },
          ],
          volumes: [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }],
        },
      },
    },
  };
}
