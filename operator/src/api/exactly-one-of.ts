/** A CEL rule (x-kubernetes-validations entry) saying exactly one of `fields` is set. */
export function exactlyOneOf(fields: readonly string[], where: string) {
  return {
    rule: `${fields.map((f) => `(has(self.${f}) ? 1 : 0)`).join(" + ")} == 1`,
    message: `set exactly one of ${fields.map((f) => `${where}.${f}`).join(", ")}`,
  };
}
