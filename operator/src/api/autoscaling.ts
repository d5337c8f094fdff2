import { z } from "zod";

// ChurnModel.spec.autoscaling: a HorizontalPodAutoscaler per serving variant. The schema only
// describes; the resolved values (the default target) come from autoscalingOf in defaults.ts.

/** ChurnModel.spec.autoscaling. */
export const autoscalingSchema = z
  .object({
    minReplicas: z
      .int()
      .min(1)
      .max(100)
      .describe("Fewest pods of the stable version (at least 1: an HPA cannot scale to zero)."),
    maxReplicas: z.int().min(1).max(100).describe("Most pods of each version."),
    targetCPUUtilizationPercent: z
      .int()
      .min(1)
      .max(1000)
      .optional()
      .describe(
        "Average CPU use of a variant's pods, in percent of their CPU request (spec.resources.requests.cpu must be set). Default 70 when no target is given.",
      ),
    targetRequestsPerSecondPerPod: z
      .number()
      .gt(0)
      .max(1_000_000)
      .optional()
      .describe(
        "Average scoring requests per second per pod: the Pods metric http_requests_per_second, served by a custom metrics adapter (prometheus-adapter's default rules derive it from the runtime's http_requests_total).",
      ),
  })
  .describe(
    "Scale each version's pods with a HorizontalPodAutoscaler instead of spec.replicas. The stable version keeps its own autoscaler (full capacity) during a canary; the canary gets one sized to its share. Router traffic only: with trafficRouting replicas the replica ratio is the weight.",
  )
  .meta({
    "x-kubernetes-validations": [
      {
        rule: "self.minReplicas <= self.maxReplicas",
        message: "autoscaling.minReplicas must not exceed autoscaling.maxReplicas",
      },
    ],
  });

/** ChurnModel.spec.autoscaling as written. */
export type AutoscalingSpec = z.output<typeof autoscalingSchema>;
