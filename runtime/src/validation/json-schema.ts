// The JSON Schema of an object shape from request-rules.ts, for the OpenAPI document: each
// field's rules' schemas merged in order, so the document says what the validator checks.
import { type Field, type JsonSchema, type ObjectShape, TYPE_JSON } from "./request-rules.js";

/** Merges one rule's schema into a field's: bounds keep the tighter value, other keys are set. */
function merge(into: JsonSchema, json: JsonSchema): JsonSchema {
  for (const [key, value] of Object.entries(json)) {
    const current = into[key];
    if (key === "minimum" && typeof current === "number")
      into[key] = Math.max(current, value as number);
    else if (key === "maximum" && typeof current === "number")
      into[key] = Math.min(current, value as number);
    else into[key] = value;
  }
  return into;
}

function fieldJsonSchema(field: Field, ref: (component: string) => JsonSchema): JsonSchema {
  const schema: JsonSchema = { ...TYPE_JSON[field.type] };
  for (const rule of field.rules) merge(schema, rule.json);
  if (field.items) {
    const component = field.items.component;
    schema.items = component ? ref(component) : shapeJsonSchema(field.items, ref);
  }
  if (field.description !== undefined) schema.description = field.description;
  // A field of any type takes null too.
  return field.nullable && field.type !== "any" ? { anyOf: [schema, { type: "null" }] } : schema;
}

/** The shape as a JSON Schema; nested shapes that name a component are written as `ref(component)`. */
export function shapeJsonSchema(
  shape: ObjectShape,
  ref: (component: string) => JsonSchema,
): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const field of shape.fields) {
    properties[field.name] = fieldJsonSchema(field, ref);
    if (field.required) required.push(field.name);
  }
  return { type: "object", properties, required, additionalProperties: false };
}
