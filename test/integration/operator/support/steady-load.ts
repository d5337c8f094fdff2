// A steady stream of scoring requests against a URL, as an application would send them: one
// customer per request, ids cycling over a pool, a fixed rate. It records every answer (status,
// which variant answered) so a test can say "zero failed requests over the whole rollout".
import { Agent, request } from "node:http";

/** What the load saw. */
export interface LoadStats {
  sent: number;
  ok: number;
  failed: number;
  /** Answers per variant, from the router's x-churn-variant header ("direct" without it). */
  byVariant: Record<string, number>;
  /** Up to 20 failures: seconds since the start, then status or error text. */
  failures: string[];
}

/** Sends `rps` POST /v1/score requests per second to `baseUrl` until stopped. */
export class SteadyLoad {
  private timer: NodeJS.Timeout | undefined;
  private readonly agent: Agent;
  private inflight = new Set<Promise<void>>();
  private next = 0;
  private startedAt = 0;
  readonly stats: LoadStats = { sent: 0, ok: 0, failed: 0, byVariant: {}, failures: [] };

  constructor(
    private readonly baseUrl: string,
    private readonly rows: readonly Record<string, unknown>[],
    private readonly rps: number,
    /** Keep connections open (an application's pool). Without, every request connects anew,
     * which is what spreads requests over pods behind a plain Service (it balances connections). */
    keepAlive = true,
  ) {
    this.agent = new Agent({ keepAlive, maxSockets: 32 });
  }

  /** Starts sending. */
  start(): this {
    const period = Math.max(1, Math.round(1000 / this.rps));
    this.startedAt = performance.now();
    this.timer = setInterval(() => this.fire(), period);
    return this;
  }

  /** Stops sending and waits for the requests in flight. */
  async stop(): Promise<LoadStats> {
    clearInterval(this.timer);
    await Promise.all([...this.inflight]);
    this.agent.destroy();
    return this.stats;
  }

  /** Resets the counters (e.g. after a warm-up). */
  reset(): void {
    Object.assign(this.stats, { sent: 0, ok: 0, failed: 0, byVariant: {}, failures: [] });
  }

  /** Seconds since {@link start}, to say when a failure happened in the test's course. */
  private elapsed(): string {
    return `+${((performance.now() - this.startedAt) / 1000).toFixed(2)}s`;
  }

  private fire(): void {
    const sentAt = this.elapsed();
    const row = this.rows[this.next++ % this.rows.length];
    const p = send(`${this.baseUrl}/v1/score`, { instances: [row] }, this.agent).then(
      (r) => {
        this.stats.sent++;
        const variant = r.variant ?? "direct";
        this.stats.byVariant[variant] = (this.stats.byVariant[variant] ?? 0) + 1;
        if (r.status === 200) this.stats.ok++;
        else this.fail(`${sentAt} HTTP ${r.status} from ${variant}: ${r.body.slice(0, 200)}`);
      },
      (err: Error) => {
        this.stats.sent++;
        this.fail(`${sentAt} ${err.message}`);
      },
    );
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  private fail(why: string): void {
    this.stats.failed++;
    if (this.stats.failures.length < 20) this.stats.failures.push(why);
  }
}

/** One JSON POST; resolves with status, the answering variant and the body. */
export function send(
  url: string,
  body: unknown,
  agent?: Agent,
  headers: Record<string, string> = {},
): Promise<{ status: number; variant?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const data = Buffer.from(JSON.stringify(body));
    const req = request(
      url,
      {
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": data.length, ...headers },
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            variant: res.headers["x-churn-variant"] as string | undefined,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error("request timed out after 10 s")));
    req.on("error", reject);
    req.end(data);
  });
}
