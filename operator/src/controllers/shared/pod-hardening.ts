import type { V1PodSecurityContext, V1SecurityContext } from "@kubernetes/client-node";

/** The non-root user our images run as (distroless "nonroot"). */
export const NON_ROOT_UID = 65532;

/** Pod-level security context shared by trainer and runtime pods. */
export function podSecurityContext(): V1PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: NON_ROOT_UID,
    runAsGroup: NON_ROOT_UID,
    fsGroup: NON_ROOT_UID,
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** Container-level hardening: read-only root, no privilege escalation, no capabilities. */
export function containerSecurityContext(): V1SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    privileged: false,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}
