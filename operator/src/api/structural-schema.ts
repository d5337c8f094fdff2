import { z } from "zod";

/** An OpenAPI v3 schema node as a plain JSON object. */
export type JsonSchema = { [key: string]: unknown };

const SAFE_INT_BOUNDS = new Set([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]);

/**
 * Converts a zod schema into a Kubernetes *structural* OpenAPI v3 schema for a CRD: every node
 * typed, no `$ref`, no `additionalProperties: false`, int-or-string and free-form values spelled
 * with the x-kubernetes extensions, descriptions and defaults kept, CEL rules (x-kubernetes-
 * validations set through `.meta()`) carried through.
 */
export function toStructuralSchema(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, {
    target: "openapi-3.0",
    io: "input",
    reused: "inline",
    unrepresentable: "throw",
  }) as JsonSchema;
  delete json.$schema;
  return normalise(json, "spec");
}

function normalise(node: JsonSchema, path: string): JsonSchema {
  const out = Object.fromEntries(Object.entries(node).filter(([k, v]) => kept(k, v)));
  if (Array.isArray(out.anyOf)) return union(out, path);
  if (out.type === undefined && out.properties === undefined && out.items === undefined) {
    // z.unknown(): any JSON value.
    return { ...out, "x-kubernetes-preserve-unknown-fields": true };
  }
  if (out.properties) {
    const props = out.properties as Record<string, JsonSchema>;
    out.properties = Object.fromEntries(
      Object.entries(props).map(([name, child]) => [name, normalise(child, `${path}.${name}`)]),
    );
  }
  if (isSchema(out.items)) out.items = normalise(out.items, `${path}[]`);
  if (isSchema(out.additionalProperties))
    out.additionalProperties = normalise(out.additionalProperties, `${path}{}`);
  if (out.nullable) throw new Error(`${path}: nullable fields are not used in our CRDs`);
  return out;
}

/** Whether a keyword stays: not a closed object, zod's safe-integer bounds, or an id. */
function kept(key: string, value: unknown): boolean {
  if (key === "additionalProperties" && value === false) return false;
  if ((key === "minimum" || key === "maximum") && SAFE_INT_BOUNDS.has(value as number))
    return false;
  return key !== "id" && key !== "$id";
}

/** A nested schema (not `true`, `false` or absent). */
const isSchema = (v: unknown): v is JsonSchema => !!v && typeof v === "object";

function union(node: JsonSchema, path: string): JsonSchema {
  const branches = node.anyOf as JsonSchema[];
  const { anyOf: _drop, ...rest } = node;
  const types = new Set(branches.map((b) => b.type));
  if ([...types].every((t) => t === "integer" || t === "string")) {
    return { ...rest, "x-kubernetes-int-or-string": true };
  }
  if ([...types].some((t) => t === undefined)) {
    throw new Error(`${path}: union branches need a type`);
  }
  // Any other scalar union (e.g. a target's positive value: 1, "yes" or true): free-form.
  return { ...rest, "x-kubernetes-preserve-unknown-fields": true };
}
