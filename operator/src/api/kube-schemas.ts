import { z } from "zod";

/** A resource quantity ("500m", "1Gi", 2): int-or-string, as in core/v1. */
export const quantitySchema = z
  .union([z.int().min(0), z.string().regex(/^[+]?[0-9.]+([eE][-+]?[0-9]+|[a-zA-Z]{0,2})$/)])
  .describe("A resource quantity such as 500m, 2 or 1Gi.");

/** core/v1 ResourceRequirements (requests and limits only). */
export const resourcesSchema = z
  .object({
    requests: z
      .record(z.string(), quantitySchema)
      .optional()
      .describe("Minimum resources the container needs (cpu, memory, ephemeral-storage)."),
    limits: z
      .record(z.string(), quantitySchema)
      .optional()
      .describe("Maximum resources the container may use."),
  })
  .describe("Compute resources of the container, as in a Pod spec.");

/** metav1.LabelSelector. */
export const labelSelectorSchema = z
  .object({
    matchLabels: z
      .record(z.string(), z.string())
      .optional()
      .describe("Labels that must all be present with these values."),
    matchExpressions: z
      .array(
        z.object({
          key: z.string().min(1).describe("The label key the requirement applies to."),
          operator: z
            .enum(["In", "NotIn", "Exists", "DoesNotExist"])
            .describe("How the key relates to the values."),
          values: z
            .array(z.string())
            .optional()
            .describe("Values for In and NotIn; must be empty for Exists and DoesNotExist."),
        }),
      )
      .optional()
      .describe("Set-based requirements; all must hold."),
  })
  .describe("A Kubernetes label selector.");

/** A reference to an object by name in the same namespace. */
export const localRefSchema = z
  .object({
    name: z.string().min(1).max(253).describe("Name of the object, in the same namespace."),
  })
  .describe("A reference to an object in the same namespace.");

/** metav1.Condition. */
export const conditionSchema = z.object({
  type: z.string().describe("Type of condition in PascalCase, e.g. Ready."),
  status: z.enum(["True", "False", "Unknown"]).describe("Status of the condition."),
  reason: z.string().describe("A PascalCase machine-readable reason for the last transition."),
  message: z.string().describe("A human-readable message about the last transition."),
  lastTransitionTime: z.string().describe("When the condition last changed status (RFC 3339)."),
  observedGeneration: z
    .int()
    .min(0)
    .optional()
    .describe("The .metadata.generation the condition was set for."),
});

/** A model artifact reference: where it is and the sha256 that names it. */
export const artifactRefSchema = z
  .object({
    uri: z
      .string()
      .min(1)
      .describe(
        "Where the artifact directory is: pvc://<claim>/<digest>, or s3://<bucket>/<prefix>/<digest>/ (downloaded and verified by each pod).",
      ),
    digest: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .describe("sha256 of model.onnx (64 lower-case hex digits); names the artifact directory."),
  })
  .describe("A content-addressed model artifact.");
