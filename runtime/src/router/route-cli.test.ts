import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, scoreAcrossSigterm } from "../../test-support/cli-process.js";
import { get, startTestServer } from "../../test-support/test-server.js";
import { fixtureModel, trainedArtifact } from "../../test-support/trained-artifact.js";
import { resolveRouteConfig } from "./route-config.js";

const fixture = trainedArtifact();
const { reference } = fixtureModel(fixture);
const scratch = mkdtempSync(join(tmpdir(), "churn-route-cli-"));
let stable: Awaited<ReturnType<typeof startTestServer>>;
beforeAll(async () => {
  stable = await startTestServer(fixture.modelDir);
});
afterAll(async () => {
  await stable?.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe("churn-runtime route (child process)", () => {
  it("routes by the traffic file, and stops on SIGTERM only after the request in flight is answered", async () => {
    const file = join(scratch, "traffic.json");
    writeFileSync(
      file,
      JSON.stringify({
        model: "bank",
        stable: { digest: fixture.digest, url: stable.url },
        canary: null,
        stickyHeader: null,
      }),
    );
    const child = runCli(["route", "--traffic-file", file, "--port", "0"], {
      CHURN_RUNTIME_HOST: "127.0.0.1",
    });
    try {
      const { url } = (await child.waitForLog("listening")) as { url: string };
      await child.waitForLog("traffic config applied");
      await child.waitForLog("sticky id column learned from the stable model");
      expect((await get(`${url}/readyz`)).status).toBe(200);

      // Headers sent and acknowledged (100-continue), body still to come, when SIGTERM arrives.
      const inflight = scoreAcrossSigterm(child, url, reference.rows.slice(0, 10));
      const res = await inflight;
      expect(res.status).toBe(200);
      expect(res.headers["x-churn-variant"]).toBe("stable");
      expect(JSON.parse(res.body).predictions).toHaveLength(10);
      expect(await child.exited).toBe(0);
      expect(child.lines.some((l) => l.msg === "stopped")).toBe(true);
      expect(child.lines.find((l) => l.msg === "request")).toMatchObject({
        level: "info",
        path: "/v1/score",
        variant: "stable",
        status: 200,
      });
    } finally {
      child.proc.kill("SIGKILL");
    }
  });

  it("rejects missing or conflicting sources with the flags named, and prints usage", async () => {
    const none = runCli(["route", "--port", "0"]);
    expect(await none.exited).toBe(64);
    expect(none.stderr()).toContain(
      "--traffic-config-map (CHURN_TRAFFIC_CONFIG_MAP) or --traffic-file (CHURN_TRAFFIC_FILE) is required",
    );
    const unknown = runCli(["route", "--model-dir", "x"]);
    expect(await unknown.exited).toBe(64);
    expect(unknown.stderr()).toContain("usage: churn-runtime serve");
    const help = runCli(["route", "--help"]);
    expect(await help.exited).toBe(0);
    const usage = help.lines.map((l) => l.raw).join("\n");
    expect(usage).toContain(
      "churn-runtime route (--namespace NS --traffic-config-map NAME | --traffic-file PATH)",
    );
    expect(usage).toContain("CHURN_TRAFFIC_CONFIG_MAP");
  });
});

describe("resolveRouteConfig", () => {
  it("takes flags over environment variables over serve's shared defaults", () => {
    const c = resolveRouteConfig(
      { port: "9100" },
      {
        CHURN_ROUTER_NAMESPACE: "team-a",
        CHURN_TRAFFIC_CONFIG_MAP: "bank-traffic",
        CHURN_RUNTIME_PORT: "9000",
        CHURN_GRPC_PORT: "8081",
      },
    );
    expect(c).toMatchObject({
      namespace: "team-a",
      trafficConfigMap: "bank-traffic",
      trafficFile: undefined,
      port: 9100,
      grpcPort: 8081,
      host: "127.0.0.1",
      maxBodyBytes: 4 * 1024 * 1024,
      shutdownGraceSeconds: 25,
      logLevel: "info",
    });
    const inPod = resolveRouteConfig(
      { trafficFile: "t.json" },
      { KUBERNETES_SERVICE_HOST: "10.0.0.1" },
    );
    expect(inPod.host).toBe("0.0.0.0");
    // No gRPC front unless a port is given.
    expect(inPod.grpcPort).toBeUndefined();
  });

  it("names the flag and variable of every problem", () => {
    const problem = (flags: Record<string, string>) => {
      try {
        resolveRouteConfig(flags, {});
      } catch (err) {
        return (err as Error).message;
      }
      return "accepted";
    };
    expect(problem({ trafficConfigMap: "bank-traffic" })).toBe(
      "--namespace (CHURN_ROUTER_NAMESPACE) is required with --traffic-config-map (CHURN_TRAFFIC_CONFIG_MAP)",
    );
    expect(problem({ trafficConfigMap: "x", namespace: "a", trafficFile: "t" })).toBe(
      "give either --traffic-config-map (CHURN_TRAFFIC_CONFIG_MAP) or --traffic-file (CHURN_TRAFFIC_FILE), not both",
    );
    expect(problem({ trafficConfigMap: "Bad_Name", namespace: "a" })).toBe(
      "--traffic-config-map (CHURN_TRAFFIC_CONFIG_MAP) must be a Kubernetes object name",
    );
    expect(problem({ trafficFile: "t", port: "http" })).toMatch(/^--port \(CHURN_RUNTIME_PORT\) /);
  });
});
