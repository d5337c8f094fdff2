import { afterEach, describe, expect, it } from "vitest";
import { ControllerMetrics } from "./controller-metrics.js";
import { ProbeServer } from "./probe-server.js";

let server: ProbeServer | undefined;
afterEach(async () => server?.close());

describe("ProbeServer", () => {
  it("answers ok, or 500 naming the failing check", async () => {
    let synced = false;
    server = new ProbeServer({
      host: "127.0.0.1",
      port: 0,
      healthz: { ping: () => undefined },
      readyz: { informers: () => (synced ? undefined : "caches not synced: jobs") },
    });
    const port = await server.listen();
    const get = (p: string) => fetch(`http://127.0.0.1:${port}${p}`);
    expect((await get("/healthz")).status).toBe(200);
    const notReady = await get("/readyz");
    expect(notReady.status).toBe(500);
    expect(await notReady.text()).toContain("[-]informers failed: caches not synced: jobs");
    synced = true;
    expect(await (await get("/readyz")).text()).toBe("ok");
    expect((await get("/nope")).status).toBe(404);
  });

  it("serves controller-runtime metric names in Prometheus format", async () => {
    const metrics = new ControllerMetrics();
    metrics.registerController("trainingrun", 2);
    metrics.reconciled("trainingrun", "success", 0.01);
    metrics.setLeader("churn-operator", true);
    server = new ProbeServer({
      host: "127.0.0.1",
      port: 0,
      healthz: {},
      readyz: {},
      registry: metrics.registry,
    });
    const port = await server.listen();
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(text).toContain(
      'controller_runtime_reconcile_total{controller="trainingrun",result="success"} 1',
    );
    expect(text).toContain('controller_runtime_reconcile_errors_total{controller="trainingrun"} 0');
    expect(text).toContain("controller_runtime_reconcile_time_seconds_bucket");
    expect(text).toContain('workqueue_depth{name="trainingrun",controller="trainingrun"} 0');
    expect(text).toContain(
      'controller_runtime_max_concurrent_reconciles{controller="trainingrun"} 2',
    );
    expect(text).toContain('leader_election_master_status{name="churn-operator"} 1');
  });
});
