import type { z } from "zod";
import { GROUP, VERSION } from "./group.js";
import { type JsonSchema, toStructuralSchema } from "./structural-schema.js";

/** A printer column of `kubectl get`. */
export interface PrinterColumn {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  jsonPath: string;
  description?: string;
  priority?: number;
}

/** Everything needed to describe one custom resource kind. */
export interface CrdDefinition {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  description: string;
  spec: z.ZodType;
  status: z.ZodType;
  printerColumns: PrinterColumn[];
  /** CEL rules on the whole object (e.g. spec immutability, which needs oldSelf at the root). */
  validations?: Array<{
    rule: string;
    message: string;
    /** Where the error points (e.g. ".spec"), instead of the object root. */
    fieldPath?: string;
    /** The cause in the error's details, e.g. "FieldValueForbidden". */
    reason?: string;
  }>;
}

/** Builds the apiextensions.k8s.io/v1 CustomResourceDefinition object for a kind. */
export function crdManifest(def: CrdDefinition): JsonSchema {
  const root: JsonSchema = {
    type: "object",
    description: def.description,
    required: ["spec"],
    properties: {
      apiVersion: { type: "string", description: "APIVersion of this object." },
      kind: { type: "string", description: "Kind of this object." },
      metadata: { type: "object" },
      spec: toStructuralSchema(def.spec),
      status: toStructuralSchema(def.status),
    },
  };
  if (def.validations?.length) root["x-kubernetes-validations"] = def.validations;
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: `${def.plural}.${GROUP}`,
      labels: { "app.kubernetes.io/part-of": "churn-operator" },
    },
    spec: {
      group: GROUP,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: def.shortNames,
        categories: ["churn"],
      },
      scope: "Namespaced",
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: def.printerColumns,
          schema: { openAPIV3Schema: root },
        },
      ],
    },
  };
}
