/** Exponential backoff with full jitter bounds: base * 2^failures, capped. */
export class Backoff {
  private failures = 0;

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {
    if (!(baseMs > 0) || !(maxMs >= baseMs)) {
      throw new Error(`backoff: need 0 < baseMs <= maxMs, got ${baseMs}, ${maxMs}`);
    }
  }

  /** Delay before the next attempt; each call counts one more failure. */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(this.failures, 30));
    this.failures += 1;
    // Half fixed, half jitter: spreads retries of many clients yet never retries instantly.
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  /** Forgets past failures after a success. */
  reset(): void {
    this.failures = 0;
  }

  /** Number of consecutive failures so far. */
  get attempts(): number {
    return this.failures;
  }
}
