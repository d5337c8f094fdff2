/**
 * The root CEL rule behind "the spec is immutable once started", for a kind whose operator
 * records status.jobName (with the object's resourceVersion as a precondition) before it
 * creates the Job, so a spec accepted here is the spec the Job runs. Status-subresource writes
 * keep the spec and main-resource writes keep the status, so each kind of write passes or fails
 * on its own half.
 */
export function specImmutableOnceJobNamed(kind: string) {
  return {
    rule: "!has(oldSelf.status) || !has(oldSelf.status.jobName) || self.spec == oldSelf.spec",
    message: `spec is immutable once the run has started (status.jobName is set); create a new ${kind} instead`,
    fieldPath: ".spec",
    reason: "FieldValueForbidden",
  } as const;
}
