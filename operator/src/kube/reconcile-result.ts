/** What a reconcile pass asks for next: nothing (done), or another pass after a delay. */
export interface ReconcileResult {
  requeueAfterMs?: number;
}

/**
 * An error that retrying cannot fix (bad input, a failed gate): the controller records it and
 * does not requeue; a change to the object brings the key back.
 */
export class TerminalError extends Error {
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message);
    this.name = "TerminalError";
  }
}
