import * as grpc from "@grpc/grpc-js";
import type { V1ConfigMap, V1Service } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { noProcessNode, waitFor } from "../../../cluster/testing/index.js";
import { Resources } from "../../../operator/src/kube/resources.js";
import { loadInferenceService } from "../../../runtime/src/grpc/grpc-server.js";
import { apply } from "./support/kube.js";
import {
  type OperatorEnv,
  seedTrainingRun,
  servingModel,
  setupOperatorEnv,
} from "./support/operator-env.js";
import { readyPodIps } from "./support/rollout-env.js";
import { waitForModelReady, waitForRunFinished } from "./support/status.js";

// A version at two replicas behind the router, gRPC on (the default): the operator gives the
// version a headless Service, traffic.json names it, the router pod resolves it through the
// cluster's DNS and balances calls and requests: both serving pods answer gRPC calls and HTTP
// requests sent to the router.
describe.skipIf(noProcessNode)(
  "a version's gRPC and HTTP through the router, over its pods",
  () => {
    let env: OperatorEnv;
    let digest10 = "";

    beforeAll(async () => {
      env = await setupOperatorEnv("grpc-lb");
      await env.startOperator("op-grpc-lb");
      await apply(
        env.client,
        seedTrainingRun(env.ns, "bank", (s) => {
          s.model = { hyperparameters: { n_estimators: 30, max_depth: 3, learning_rate: 0.1 } };
          s.modelRef = undefined;
        }),
      );
      const run = await waitForRunFinished(env.client, env.ns, "bank");
      if (run.status?.phase !== "Succeeded") throw new Error(JSON.stringify(run.status));
      digest10 = run.status.model?.digest.slice(0, 10) ?? "";
    }, 400_000);
    afterAll(async () => {
      await env?.cleanup();
    });

    /** Liveness asks each serving pod answered over gRPC (or `method`, over HTTP): its own counter. */
    const answered = async (ips: string[], method = "GRPC") => {
      const counts = new Map<string, number>();
      for (const ip of ips) {
        const text = await (await fetch(`http://${ip}:8080/metrics`)).text();
        const line = text
          .split("\n")
          .find(
            (l) =>
              l.startsWith("http_requests_total{") &&
              l.includes(`method="${method}"`) &&
              l.includes('route="/v2/health/live"'),
          );
        counts.set(ip, line ? Number(line.slice(line.lastIndexOf(" ") + 1)) : 0);
      }
      return counts;
    };

    it("sends a version's gRPC calls to both of its pods", async () => {
      await apply(env.client, servingModel(env.ns, "bank", "bank", { replicas: 2 }));
      await waitForModelReady(env.client, env.ns, "bank");
      const headless = `bank-${digest10}-pods`;
      const svc = await env.client.get<V1Service>(Resources.services, env.ns, headless);
      expect(svc?.spec?.clusterIP).toBe("None");
      const cm = await env.client.get<V1ConfigMap>(Resources.configMaps, env.ns, "bank-traffic");
      const traffic = JSON.parse(cm?.data?.["traffic.json"] ?? "{}");
      expect(traffic.stable.grpcTarget).toBe(`dns:///${headless}.${env.ns}.svc:8081`);

      const pods = await readyPodIps(env, `churn.mlops.dev/version=${digest10}`);
      expect(pods).toHaveLength(2);
      const [router] = await waitFor("a ready router pod", async () => {
        const ips = await readyPodIps(env, "app.kubernetes.io/component=router");
        return ips.length ? ips : undefined;
      });
      const Service = loadInferenceService();
      const client = new Service(`${router}:8081`, grpc.credentials.createInsecure());
      type Unary = (req: unknown, cb: (e: grpc.ServiceError | null) => void) => unknown;
      const serverLive = (client as unknown as { ServerLive: Unary }).ServerLive.bind(client);
      const live = () =>
        new Promise<grpc.ServiceError | null>((resolve) => serverLive({}, resolve));
      try {
        const before = await answered(pods);
        const failures: string[] = [];
        for (let i = 0; i < 20; i++) {
          const errors = await Promise.all(Array.from({ length: 10 }, live));
          for (const e of errors) if (e) failures.push(`${e.code} ${e.details}`);
        }
        expect(failures).toEqual([]);
        const after = await answered(pods);
        const counts = pods.map((ip) => (after.get(ip) ?? 0) - (before.get(ip) ?? 0));
        process.stdout.write(`[grpc calls per pod] ${JSON.stringify(counts)}\n`);
        expect(counts.reduce((a, b) => a + b, 0)).toBe(200);
        for (const n of counts) expect(n).toBeGreaterThan(60);
      } finally {
        client.close();
      }
    });

    it("sends a version's HTTP requests, one at a time, to both of its pods", async () => {
      await apply(env.client, servingModel(env.ns, "bank", "bank", { replicas: 2 }));
      await waitForModelReady(env.client, env.ns, "bank");
      const headless = `bank-${digest10}-pods`;
      const cm = await env.client.get<V1ConfigMap>(Resources.configMaps, env.ns, "bank-traffic");
      const traffic = JSON.parse(cm?.data?.["traffic.json"] ?? "{}");
      expect(traffic.stable.httpTarget).toBe(`dns:///${headless}.${env.ns}.svc:8080`);
      const svc = await env.client.get<V1Service>(Resources.services, env.ns, headless);
      expect(svc?.spec?.ports?.map((p) => p.name)).toContain("http");

      const pods = await readyPodIps(env, `churn.mlops.dev/version=${digest10}`);
      expect(pods).toHaveLength(2);
      const [router] = await readyPodIps(env, "app.kubernetes.io/component=router");
      const before = await answered(pods, "GET");
      const failures: string[] = [];
      // One at a time: over the ClusterIP Service, each would reuse the one kept-alive connection.
      for (let i = 0; i < 100; i++) {
        const res = await fetch(`http://${router}:8080/v2/health/live`);
        if (res.status !== 200) failures.push(`${res.status} ${await res.text()}`);
      }
      expect(failures).toEqual([]);
      const after = await answered(pods, "GET");
      const counts = pods.map((ip) => (after.get(ip) ?? 0) - (before.get(ip) ?? 0));
      process.stdout.write(`[http requests per pod] ${JSON.stringify(counts)}\n`);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(100);
      for (const n of counts) expect(n).toBeGreaterThan(30);
    });
  },
);
