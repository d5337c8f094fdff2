import type { V1Deployment, V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { noProcessNode, waitFor } from "../../../cluster/testing/index.js";
import type { ChurnModel } from "../../../operator/src/api/churn-model.js";
import { churnModelType } from "../../../operator/src/controllers/shared/custom-resources.js";
import { Resources } from "../../../operator/src/kube/resources.js";
import { OPERATOR_NAMESPACE, repoRoot } from "./support/install.js";
import { apply } from "./support/kube.js";
import { type OperatorEnv, setupOperatorEnv } from "./support/operator-env.js";

// Given the operator deployed as a pod (in-cluster config, its ServiceAccount's projected token,
// probes on :8081, metrics on :8080), when a ChurnModel is applied, then that pod reconciles it.
describe.skipIf(noProcessNode)("the operator as a Deployment in the cluster", () => {
  let env: OperatorEnv;
  const name = () => `op-${env.ns}`;

  beforeAll(async () => {
    env = await setupOperatorEnv("incluster");
  });
  afterAll(async () => {
    await env?.client.delete(Resources.deployments, OPERATOR_NAMESPACE, name());
    await env?.cleanup();
  });

  it("becomes ready, reconciles and serves metrics, with only config/rbac's rights", async () => {
    const labels = {
      "app.kubernetes.io/name": "churn-operator",
      "app.kubernetes.io/instance": name(),
    };
    const fieldEnv = (n: string, path: string) => ({
      name: n,
      valueFrom: { fieldRef: { fieldPath: path } },
    });
    await apply(env.client, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: name(), namespace: OPERATOR_NAMESPACE, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: "churn-operator",
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 65532,
              seccompProfile: { type: "RuntimeDefault" },
            },
            containers: [
              {
                name: "manager",
                // The process node's `node` image is the host's node; the real image runs
                // dist/operator/src/main.js (Dockerfile.operator). Same program, no build here.
                image: "node",
                command: [process.execPath, "--import", "tsx", `${repoRoot}/operator/src/main.ts`],
                args: [
                  "--namespace",
                  env.ns,
                  "--leader-election-id",
                  `churn-operator-${env.ns}`,
                  "--metrics-bind-address",
                  ":8080",
                  "--health-probe-bind-address",
                  ":8081",
                ],
                workingDir: repoRoot,
                env: [
                  fieldEnv("POD_NAME", "metadata.name"),
                  fieldEnv("POD_NAMESPACE", "metadata.namespace"),
                ],
                ports: [
                  { name: "metrics", containerPort: 8080 },
                  { name: "health", containerPort: 8081 },
                ],
                readinessProbe: { httpGet: { path: "/readyz", port: "health" }, periodSeconds: 2 },
                livenessProbe: { httpGet: { path: "/healthz", port: "health" }, periodSeconds: 10 },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  capabilities: { drop: ["ALL"] },
                },
                volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
              },
            ],
            volumes: [{ name: "tmp", emptyDir: {} }],
          },
        },
      },
    } as V1Deployment);
    await waitFor(
      "the operator pod to be Ready",
      async () => {
        const d = await env.client.get<V1Deployment>(
          Resources.deployments,
          OPERATOR_NAMESPACE,
          name(),
        );
        return (d?.status?.readyReplicas ?? 0) >= 1;
      },
      { timeoutMs: 120_000 },
    );

    await apply(env.client, {
      apiVersion: "churn.mlops.dev/v1alpha1",
      kind: "ChurnModel",
      metadata: { name: "idle", namespace: env.ns },
      spec: {
        source: {
          artifact: { uri: `pvc://churn-models/${"1".repeat(64)}`, digest: "1".repeat(64) },
        },
        replicas: 0,
        explanations: { enabled: true },
      },
    } as ChurnModel);
    const model = await waitFor("the in-cluster operator to reconcile the ChurnModel", async () => {
      const m = await env.client.get<ChurnModel>(churnModelType, env.ns, "idle");
      return m?.status?.observedGeneration === m?.metadata?.generation && m?.status?.phase
        ? m
        : undefined;
    });
    expect(model.status?.serving?.digest).toBe("1".repeat(64));
    // Deployments are named by version: `<model>-<digest prefix>`.
    expect(
      await env.client.get(Resources.deployments, env.ns, `idle-${"1".repeat(10)}`),
    ).toBeDefined();

    const pods = await env.client.list<V1Pod>(Resources.pods, OPERATOR_NAMESPACE, {
      labelSelector: `app.kubernetes.io/instance=${name()}`,
    });
    const ip = pods.items[0]?.status?.podIP;
    const metrics = await (await fetch(`http://${ip}:8080/metrics`)).text();
    expect(metrics).toMatch(
      /controller_runtime_reconcile_total\{controller="churnmodel",result="success"\} [1-9]/,
    );
    expect(metrics).toContain('leader_election_master_status{name="churn-operator-');
  });
});
