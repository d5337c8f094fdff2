/** What a step tells the pass: go on, stop here (done for now), or stop and come back later. */
export type StepResult =
  | { next: "continue" }
  | { next: "stop" }
  | { next: "requeue"; afterMs: number };

/** Step results, spelled once. */
export const Step = {
  continue: { next: "continue" } as StepResult,
  stop: { next: "stop" } as StepResult,
  requeue: (afterMs: number): StepResult => ({ next: "requeue", afterMs }),
};

/** One small idempotent step of a reconcile pass over a context `C`. */
export interface ReconcileStep<C> {
  name: string;
  run(ctx: C): Promise<StepResult>;
}

/** How a pass ended: which step stopped it (if any) and whether to come back. */
export interface PassResult {
  stoppedAt?: string;
  requeueAfterMs?: number;
}

/**
 * Runs steps in order; the first that does not continue ends the pass. Errors propagate (the
 * controller retries with backoff), so a step never needs to catch just to give up.
 */
export async function runSteps<C>(
  steps: ReadonlyArray<ReconcileStep<C>>,
  ctx: C,
): Promise<PassResult> {
  for (const step of steps) {
    const r = await step.run(ctx);
    if (r.next === "continue") continue;
    return r.next === "requeue"
      ? { stoppedAt: step.name, requeueAfterMs: r.afterMs }
      : { stoppedAt: step.name };
  }
  return {};
}
