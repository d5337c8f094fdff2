import type { V2HorizontalPodAutoscaler, V2MetricSpec } from "@kubernetes/client-node";
import type { ChurnModel } from "../../api/churn-model.js";
import type { ResolvedAutoscaling } from "../../api/defaults.js";
import { Labels, MANAGED_BY } from "../shared/labels.js";
import { childMetadata } from "../shared/owner-reference.js";
import type { Variant } from "./desired-variants.js";
import { versionDeploymentName } from "./serving-names.js";

/**
 * The Pods metric a requests-per-second target reads: what prometheus-adapter's default rules
 * make of the runtime's `http_requests_total` counter.
 */
export const REQUESTS_PER_SECOND_METRIC = "http_requests_per_second";

/**
 * The HorizontalPodAutoscaler of one variant: named and owned like its Deployment, bounded by
 * the variant's floor and ceiling, targeting CPU and/or requests per second per pod.
 */
export function buildAutoscaler(
  model: ChurnModel,
  variant: Variant,
  a: ResolvedAutoscaling,
): V2HorizontalPodAutoscaler {
  const bounds = variant.autoscale ?? { minReplicas: a.minReplicas, maxReplicas: a.maxReplicas };
  const name = versionDeploymentName(model, variant.version.digest);
  const metrics: V2MetricSpec[] = [];
  if (a.targetCPUUtilizationPercent !== undefined)
    metrics.push({
      type: "Resource",
      resource: {
        name: "cpu",
        target: { type: "Utilization", averageUtilization: a.targetCPUUtilizationPercent },
      },
    });
  if (a.targetRequestsPerSecondPerPod !== undefined)
    metrics.push({
      type: "Pods",
      pods: {
        metric: { name: REQUESTS_PER_SECOND_METRIC },
        target: { type: "AverageValue", averageValue: quantity(a.targetRequestsPerSecondPerPod) },
      },
    });
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: childMetadata(model, name, {
      [Labels.managedBy]: MANAGED_BY,
      [Labels.churnModel]: model.metadata?.name ?? "",
      [Labels.component]: "serving",
    }),
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
      minReplicas: bounds.minReplicas,
      maxReplicas: bounds.maxReplicas,
      metrics,
    },
  };
}

/** A Kubernetes quantity for a positive rate: whole numbers plain, fractions in milli-units. */
function quantity(n: number): string {
  return Number.isInteger(n) ? String(n) : `${Math.round(n * 1000)}m`;
}
