/** Options for {@link waitFor}. */
export interface WaitOptions {
  /** Deadline (default 120 s). */
  timeoutMs?: number;
  /** Pause between probes (default 250 ms). */
  intervalMs?: number;
  /** More context for the timeout message, such as the object's current status. */
  describe?: () => Promise<string> | string;
}

/**
 * Polls `probe` until it returns a value other than undefined/false/null and returns that
 * value. On timeout the error names what was awaited, the last thing observed (a value or an
 * error) and `describe()`, so a failing test says why, not just that it timed out. The one
 * wait of every integration suite and of the demo.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  opts: WaitOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
      last = value;
    } catch (err) {
      last = err instanceof Error ? err.message : err;
    }
    if (Date.now() > deadline) {
      const extra = opts.describe ? await opts.describe() : "";
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}; last observed: ${JSON.stringify(last)}${extra ? `\n${extra}` : ""}`,
      );
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 250));
  }
}
