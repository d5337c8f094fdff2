/**
 * The last status this process wrote per object uid. The informer cache lags behind our own
 * writes, so comparing a new status with the cached one would rewrite it (and repeat its
 * Event) until the watch catches up; as the single status writer we compare with what we
 * wrote instead. A new leader starts empty and falls back to the cache.
 */
export class WrittenStatus<S> {
  private readonly byUid = new Map<string, S>();

  /** The status to compare against: ours if we wrote one for this uid, else the cached one. */
  baseline(uid: string | undefined, cached: S | undefined): S | undefined {
    return (uid && this.byUid.get(uid)) || cached;
  }

  /** Records a status we just wrote. */
  remember(uid: string | undefined, status: S): void {
    if (uid) this.byUid.set(uid, status);
  }

  /** Forgets an object (deleted). */
  forget(uid: string | undefined): void {
    if (uid) this.byUid.delete(uid);
  }

  /** How many objects are remembered. */
  get size(): number {
    return this.byUid.size;
  }
}
