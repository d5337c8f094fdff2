/**
 * What went wrong with a fetch, in a few words: Node's fetch rejects with a bare "fetch failed"
 * and keeps the useful part (connect ECONNREFUSED, other side closed) in its cause; an expired
 * AbortSignal.timeout is a TimeoutError.
 */
export function describeFetchError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.name === "TimeoutError") return "timed out";
  const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
  return cause?.message || cause?.code || err.message;
}
