import type { V1EnvVar } from "@kubernetes/client-node";
import type { ResolvedAutoscaling } from "../../api/defaults.js";
import type { VersionRef } from "../../api/rollout.js";

/** A Deployment of one model version in a role: stable, or canary during a rollout. */
export interface Variant {
  name: "stable" | "canary";
  version: VersionRef;
  replicas: number;
  /** Pod bounds of its HorizontalPodAutoscaler; absent when spec.replicas sizes it. */
  autoscale?: { minReplicas: number; maxReplicas: number };
  /** Extra container environment (the test-only fault switch, when the operator allows it). */
  extraEnv?: V1EnvVar[];
}

/** How many pods each role runs. */
export interface VariantSizing {
  /** spec.replicas: the stable version keeps all of them during a rollout. */
  replicas: number;
  routing: "router" | "replicas" | "direct";
  /** The canary's share of requests (0-100). */
  weight: number;
  /** The share of requests mirrored to the canary (router only). */
  mirrorPercent: number;
}

/**
 * Canary pods for a share of traffic. Router: enough pods for the share it answers or mirrors,
 * at least one (its readiness gates the first request). Replicas: the Service spreads requests
 * over all ready pods, so the canary gets weight/(100-weight) of the stable pod count, and
 * none at weight 0 (every pod the Service selects gets requests).
 */
export function canaryReplicas(s: VariantSizing): number {
  if (s.routing === "router") {
    const share = Math.max(s.weight, s.mirrorPercent);
    return Math.max(1, Math.ceil((s.replicas * share) / 100));
  }
  if (s.weight <= 0 || s.replicas === 0) return 0;
  if (s.weight >= 100) return s.replicas;
  return Math.max(1, Math.round((s.replicas * s.weight) / (100 - s.weight)));
}

/**
 * The variants a ChurnModel should run: the stable version with every replica, and the canary
 * while a rollout has one. While the source cannot resolve, the version already served keeps
 * serving (never scale down what works because a new run is still training).
 */
export function desiredVariants(
  stable: VersionRef | undefined,
  canary: VersionRef | undefined,
  sizing: VariantSizing,
): Variant[] {
  if (!stable) return [];
  const out: Variant[] = [{ name: "stable", version: stable, replicas: sizing.replicas }];
  if (canary && canary.digest !== stable.digest)
    out.push({ name: "canary", version: canary, replicas: canaryReplicas(sizing) });
  return out;
}

/**
 * Hands the variants' sizes to HorizontalPodAutoscalers. The stable version scales between the
 * spec's bounds whatever the rollout does (full capacity during a canary); the canary's floor
 * is what its share of the stable floor needs, its ceiling the spec's. A variant's replicas
 * become what its Deployment runs now (the autoscaler's choice), kept inside its bounds, or the
 * floor for a Deployment not created yet.
 */
export function autoscaledVariants(
  variants: readonly Variant[],
  a: ResolvedAutoscaling | undefined,
  sizing: VariantSizing,
  current: (v: Variant) => number | undefined,
): Variant[] {
  if (!a) return [...variants];
  return variants.map((v) => {
    const minReplicas =
      v.name === "stable"
        ? a.minReplicas
        : Math.min(a.maxReplicas, canaryReplicas({ ...sizing, replicas: a.minReplicas }));
    const now = current(v) ?? minReplicas;
    const replicas = Math.min(a.maxReplicas, Math.max(minReplicas, now));
    return { ...v, replicas, autoscale: { minReplicas, maxReplicas: a.maxReplicas } };
  });
}
