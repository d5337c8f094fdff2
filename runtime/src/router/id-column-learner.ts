// The router keys sticky assignment on the model's id column, which it learns from the stable
// version's model card (GET /v1/model, `schema.idColumn`) rather than from configuration: the
// card is the contract the trainer wrote, so the router and the serving pods cannot disagree.
import { z } from "zod";
import type { Logger } from "../logger.js";

const cardSchema = z.looseObject({
  digest: z.string().optional(),
  schema: z.looseObject({ idColumn: z.string().nullable().optional() }),
});

/** Fetches and remembers the id column of the current stable version. */
export class IdColumnLearner {
  private url: string | undefined;
  private learned: { idColumn: string | null } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly logger: Logger,
    private readonly retry = { baseMs: 100, maxMs: 5_000 },
  ) {}

  /** The id column, null when the model has none, undefined until first learned. */
  get idColumn(): string | null | undefined {
    return this.learned?.idColumn;
  }

  /**
   * Learns from this stable URL (in the background, retrying until it answers). A new stable is
   * normally the previous canary of the same ChurnModel, so the old answer is kept meanwhile.
   */
  follow(stableUrl: string): void {
    if (stableUrl === this.url) return;
    this.url = stableUrl;
    clearTimeout(this.timer);
    void this.attempt(stableUrl, 0);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private async attempt(url: string, failures: number): Promise<void> {
    if (!this.following(url)) return;
    try {
      const res = await fetch(new URL("/v1/model", url), { signal: AbortSignal.timeout(5_000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const card = cardSchema.parse(await res.json());
      if (this.following(url)) this.learn(url, card);
    } catch (err) {
      if (this.following(url)) this.retryLater(url, failures, err);
    }
  }

  /** Whether answers from `url` still count: not stopped, and it is still the stable. */
  private following(url: string): boolean {
    return !this.stopped && url === this.url;
  }

  private learn(url: string, card: { schema: { idColumn?: string | null }; digest?: string }) {
    const idColumn = card.schema.idColumn ?? null;
    if (this.learned?.idColumn !== idColumn) {
      this.logger.info("sticky id column learned from the stable model", {
        stable: url,
        idColumn,
        ...(card.digest ? { digest: card.digest } : {}),
      });
    }
    this.learned = { idColumn };
  }

  private retryLater(url: string, failures: number, err: unknown): void {
    const delay = Math.min(this.retry.maxMs, this.retry.baseMs * 2 ** Math.min(failures, 20));
    // The first misses are expected while the stable's pods start; say so once, then quietly.
    const level = failures === 0 || delay === this.retry.maxMs ? "warn" : "debug";
    this.logger[level]("cannot read the stable model's id column yet", {
      stable: url,
      error: err instanceof Error ? err.message : String(err),
      retryInMs: delay,
    });
    this.timer = setTimeout(() => void this.attempt(url, failures + 1), delay);
  }
}
