import type { V1ContainerPort, V1EnvVar, V1ServicePort } from "@kubernetes/client-node";
import type { ChurnModel } from "../../api/churn-model.js";
import { Defaults, grpcEnabledOf } from "../../api/defaults.js";

// The ports of a `churn-runtime` container (serve or route) and of the Services in front of it:
// `http` always, and `grpc` (the Open Inference Protocol's gRPC form) unless spec.grpc is off.
// The gRPC port is cleartext HTTP/2: `kubernetes.io/h2c` is the Kubernetes-standard
// appProtocol for it (Gateway API implementations and cloud load balancers read it), and the
// port's name `grpc` is what Istio's protocol selection reads.

/** The appProtocol of the gRPC Service port. */
export const GRPC_APP_PROTOCOL = "kubernetes.io/h2c";

const grpcOn = (model: ChurnModel) => grpcEnabledOf(model.spec.grpc?.enabled);

/** The container's named ports. */
export function runtimeContainerPorts(model: ChurnModel): V1ContainerPort[] {
  return [
    { name: "http", containerPort: Defaults.servingPort, protocol: "TCP" },
    ...(grpcOn(model) ? [{ name: "grpc", containerPort: Defaults.grpcPort, protocol: "TCP" }] : []),
  ];
}

/** The environment that makes the runtime listen for gRPC (none with gRPC off). */
export function runtimeGrpcEnv(model: ChurnModel): V1EnvVar[] {
  return grpcOn(model) ? [{ name: "CHURN_GRPC_PORT", value: String(Defaults.grpcPort) }] : [];
}

/** A Service's ports onto those containers, by name. */
export function runtimeServicePorts(model: ChurnModel): V1ServicePort[] {
  return [
    { name: "http", port: Defaults.servingPort, targetPort: "http", protocol: "TCP" },
    ...(grpcOn(model)
      ? [
          {
            name: "grpc",
            port: Defaults.grpcPort,
            targetPort: "grpc",
            protocol: "TCP",
            appProtocol: GRPC_APP_PROTOCOL,
          },
        ]
      : []),
  ];
}

/**
 * A version's pods as the router reaches them on `port`: a `dns:` target naming the version's
 * headless Service, whose name resolves to every ready pod (the router balances over them and
 * re-resolves it as pods come and go). The port is the container's: a headless Service maps
 * none.
 */
function versionPodsTarget(model: ChurnModel, headlessService: string, port: number): string {
  return `dns:///${headlessService}.${model.metadata?.namespace}.svc:${port}`;
}

/** A version's HTTP endpoint over its pods (router mode): each request to one ready pod. */
export function versionHttpTarget(model: ChurnModel, headlessService: string): string {
  return versionPodsTarget(model, headlessService, Defaults.servingPort);
}

/** A version's gRPC endpoint over its pods, when gRPC is on: each call to one ready pod. */
export function versionGrpcTarget(model: ChurnModel, headlessService: string): string | undefined {
  return grpcOn(model) ? versionPodsTarget(model, headlessService, Defaults.grpcPort) : undefined;
}
