// Counts requests still being handled, so shutdown can wait for them even after their client
// hung up (the socket closes before the handler finishes).

/** A counter of running handlers with a way to wait for zero. */
export class InflightTracker {
  private count = 0;
  private waiters: (() => void)[] = [];

  enter(): void {
    this.count++;
  }

  leave(): void {
    this.count--;
    if (this.count === 0) for (const w of this.waiters.splice(0)) w();
  }

  get size(): number {
    return this.count;
  }

  /** Resolves once no handler is running. */
  idle(): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
