// Mirroring: a copy of a stable-answered POST /v1/score goes to the canary in the background.
// The caller only ever gets the stable's answer and never waits for the copy; once both answers
// are in, the rows are compared into the churn_router_mirror_* metrics. Copies in flight are
// capped so a slow canary cannot pile up memory in the router.
import type { IncomingMessage } from "node:http";
import type { Logger } from "../logger.js";
import { compareScoreAnswers } from "./mirror-comparison.js";
import type { RouterMetrics } from "./router-metrics.js";
import type { UpstreamRequest, Upstreams } from "./upstream.js";

/** Largest answer kept for comparison (a 100,000-row batch answer is about 15 MB). */
export const MAX_ANSWER_BYTES = 32 * 1024 * 1024;

/** Sends mirrored copies and compares their answers with the stable's. */
export class Mirror {
  private inflight = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(
    private readonly upstreams: Upstreams,
    private readonly metrics: RouterMetrics,
    private readonly logger: Logger,
    private readonly maxInflight = 256,
  ) {}

  /**
   * Sends `req` to the canary now and compares its answer with the stable's once
   * `stableAnswer` settles (undefined: the stable did not answer 2xx, nothing to compare).
   * Returns false when the copy was not sent (too many in flight).
   */
  copy(
    canaryUrl: string,
    req: UpstreamRequest,
    stableAnswer: Promise<Buffer | undefined>,
  ): boolean {
    if (this.inflight >= this.maxInflight) {
      this.metrics.mirrorsDropped.inc();
      return false;
    }
    this.inflight++;
    const canaryAnswer = this.upstreams
      .send(canaryUrl, req)
      .then((res) => readAnswer(res, "canary"));
    // Settle both before deciding, so no rejection is ever left unhandled.
    Promise.allSettled([stableAnswer, canaryAnswer])
      .then(([stable, canary]) => {
        if (stable.status === "rejected" || stable.value === undefined) return;
        if (canary.status === "rejected") throw canary.reason;
        const { absDiffs, flips } = compareScoreAnswers(
          JSON.parse(stable.value.toString("utf8")),
          JSON.parse(canary.value.toString("utf8")),
        );
        for (const d of absDiffs) this.metrics.mirrorAbsDiff.observe(d);
        this.metrics.mirrorComparisons.inc(absDiffs.length);
        if (flips > 0) this.metrics.mirrorDecisionFlips.inc(flips);
      })
      .catch((err: unknown) => {
        this.metrics.mirrorErrors.inc();
        this.logger.warn("mirrored request failed", {
          requestId: req.headers["x-request-id"],
          error: err instanceof Error ? err.message : String(err),
        });
      })
      .finally(() => {
        this.inflight--;
        if (this.inflight === 0) for (const w of this.waiters.splice(0)) w();
      });
    return true;
  }

  /** Resolves once no copy is in flight. */
  idle(): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

/** Reads a 2xx answer's body; rejects for another status or an oversized body. */
function readAnswer(res: IncomingMessage, variant: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      res.resume();
      reject(new Error(`the ${variant} answered HTTP ${status}`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    res.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_ANSWER_BYTES) {
        res.destroy(new Error(`the ${variant}'s answer exceeds ${MAX_ANSWER_BYTES} bytes`));
        return;
      }
      chunks.push(c);
    });
    res.on("end", () => resolve(Buffer.concat(chunks, size)));
    res.on("error", reject);
    res.on("aborted", () => reject(new Error(`the ${variant}'s answer was cut off`)));
  });
}
