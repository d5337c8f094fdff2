/** Options for {@link waitFor}. */
export interface WaitOptions {
  /** Deadline (default 120 s). */
  timeoutMs?: number;
  /** Pause between probes (default 250 ms). */
  intervalMs?: number;
  /** More context for the timeout message, such as the object's current status. */
  describe?: () => Promise<string> | string;
}

type Probe<T> = () => Promise<T | undefined | null | false> | T | undefined | null | false;

/** Runs the probe once: its value when it has one, otherwise what it observed instead. */
async function probeOnce<T>(probe: Probe<T>): Promise<{ value: T } | { last: unknown }> {
  try {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return { value };
    return { last: value };
  } catch (err) {
    return { last: err instanceof Error ? err.message : err };
  }
}

/** The timeout error: what was awaited, the last observation and `describe()`. */
async function timeoutError(
  what: string,
  timeoutMs: number,
  last: unknown,
  describe: WaitOptions["describe"],
): Promise<Error> {
  const extra = describe ? await describe() : "";
  return new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}; last observed: ${JSON.stringify(last)}${extra ? `\n${extra}` : ""}`,
  );
}

/**
 * Polls `probe` until it returns a value other than undefined/false/null and returns that
 * value. On timeout the error names what was awaited, the last thing observed (a value or an
 * error) and `describe()`, so a failing test says why, not just that it timed out. The one
 * wait of every integration suite and of the demo.
 */
export async function waitFor<T>(
  what: string,
  probe: Probe<T>,
  opts: WaitOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const outcome = await probeOnce(probe);
    if ("value" in outcome) return outcome.value;
    if (Date.now() > deadline) {
      throw await timeoutError(what, timeoutMs, outcome.last, opts.describe);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 250));
  }
}
