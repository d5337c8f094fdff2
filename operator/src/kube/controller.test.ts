import { describe, expect, it } from "vitest";
import { Controller } from "./controller.js";
import { ControllerMetrics } from "./controller-metrics.js";
import { createLogger } from "./logger.js";
import { type ReconcileResult, TerminalError } from "./reconcile-result.js";

const until = async (what: string, cond: () => boolean) => {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

async function sample(metrics: ControllerMetrics, name: string, labels: Record<string, string>) {
  const m = await metrics.registry.getSingleMetric(name)?.get();
  return (
    m?.values
      .filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))
      .reduce((s, v) => s + v.value, 0) ?? 0
  );
}

/** A started controller "demo" reconciling with `reconcile`, and its metrics. */
function demo(reconcile: () => Promise<ReconcileResult>, workers?: number) {
  const metrics = new ControllerMetrics();
  const c = new Controller({
    name: "demo",
    metrics,
    workers,
    log: createLogger("error"),
    reconcile,
  });
  c.start();
  return { c, metrics };
}

describe("Controller", () => {
  it("retries a failing key with backoff until it succeeds, counting errors and successes", async () => {
    let calls = 0;
    const { c, metrics } = demo(async () => {
      calls += 1;
      if (calls < 3) throw new Error("apiserver hiccup");
      return {};
    });
    c.enqueue("ns/a");
    await until("three attempts", () => calls === 3);
    await c.stop();
    expect(
      await sample(metrics, "controller_runtime_reconcile_errors_total", { controller: "demo" }),
    ).toBe(2);
    expect(
      await sample(metrics, "controller_runtime_reconcile_total", {
        controller: "demo",
        result: "success",
      }),
    ).toBe(1);
    expect(await sample(metrics, "workqueue_retries_total", { name: "demo" })).toBe(2);
  });

  it("does not retry a terminal error", async () => {
    let calls = 0;
    const { c, metrics } = demo(async () => {
      calls += 1;
      throw new TerminalError("gate failed", "GateFailed");
    });
    c.enqueue("ns/a");
    await until("one attempt", () => calls === 1);
    await c.stop();
    expect(calls).toBe(1);
    expect(c.queue.retries("ns/a")).toBe(0);
    expect(
      await sample(metrics, "controller_runtime_terminal_reconcile_errors_total", {
        controller: "demo",
      }),
    ).toBe(1);
  });

  it("honours requeueAfter and never runs one key on two workers at once", async () => {
    let running = 0;
    let maxRunning = 0;
    let calls = 0;
    const { c, metrics } = demo(async () => {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      calls += 1;
      await new Promise((r) => setTimeout(r, 5));
      running -= 1;
      return calls < 3 ? { requeueAfterMs: 1 } : {};
    }, 4);
    for (let i = 0; i < 5; i++) c.enqueue("ns/a");
    await until("the requeues", () => calls >= 3 && running === 0);
    await c.stop();
    expect(maxRunning).toBe(1);
    expect(
      await sample(metrics, "controller_runtime_reconcile_total", {
        controller: "demo",
        result: "requeue_after",
      }),
    ).toBeGreaterThanOrEqual(2);
  });
});
