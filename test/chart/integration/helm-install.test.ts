import type { V1Deployment, V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { noProcessNode, useTestNamespace, waitFor } from "../../../cluster/testing/index.js";
import type { ChurnModel } from "../../../operator/src/api/churn-model.js";
import { versionDeploymentName } from "../../../operator/src/controllers/churnmodel/serving-names.js";
import { churnModelType } from "../../../operator/src/controllers/shared/custom-resources.js";
import type { KubeClient } from "../../../operator/src/kube/kube-client.js";
import type { KubeObject as ApiObject } from "../../../operator/src/kube/kube-object.js";
import { type ResourceType, resourcePath } from "../../../operator/src/kube/resource-type.js";
import { Resources } from "../../../operator/src/kube/resources.js";
import { adminClient } from "../../integration/operator/support/kube.js";
import { ensureHelm } from "../helm-binary.js";
import {
  chartDir,
  type KubeObject,
  only,
  parseManifests,
  renderChart,
  runHelm,
} from "../render-chart.js";

// The chart against the real apiserver: every rendered object passes server-side validation
// (a dry-run server-side apply, so unknown fields fail too), and a real `helm install` runs
// the operator with only the chart's RBAC, elects a leader and reconciles a ChurnModel.

/** REST types of every kind the chart renders; a new kind fails here until it is added. */
const CHART_KINDS: Record<string, ResourceType> = {
  ServiceAccount: Resources.serviceAccounts,
  ConfigMap: Resources.configMaps,
  Service: Resources.services,
  Deployment: Resources.deployments,
  CustomResourceDefinition: Resources.customResourceDefinitions,
  PodDisruptionBudget: kind("policy", "PodDisruptionBudget", "poddisruptionbudgets", true),
  ClusterRole: kind("rbac.authorization.k8s.io", "ClusterRole", "clusterroles", false),
  ClusterRoleBinding: kind(
    "rbac.authorization.k8s.io",
    "ClusterRoleBinding",
    "clusterrolebindings",
    false,
  ),
  Role: kind("rbac.authorization.k8s.io", "Role", "roles", true),
  RoleBinding: kind("rbac.authorization.k8s.io", "RoleBinding", "rolebindings", true),
};

function kind(group: string, k: string, plural: string, namespaced: boolean): ResourceType {
  return { group, version: "v1", kind: k, plural, namespaced };
}

/** Server-side applies one object with dryRun=All: admission and validation run, nothing persists. */
async function dryRunApply(client: KubeClient, obj: KubeObject): Promise<KubeObject> {
  const type = CHART_KINDS[obj.kind];
  if (!type) throw new Error(`no REST type for ${obj.kind}: add it to CHART_KINDS`);
  return client.request<KubeObject>(
    "PATCH",
    resourcePath(type, obj.metadata.namespace, obj.metadata.name),
    {
      body: obj,
      contentType: "application/apply-patch+yaml",
      query: {
        fieldManager: "chart-dry-run",
        force: true,
        dryRun: "All",
        fieldValidation: "Strict",
      },
    },
  );
}

describe("the chart's objects on the real apiserver", () => {
  const { cluster, ns } = useTestNamespace("chart-dry");
  const client = adminClient(cluster.kc);
  let helm: string;

  beforeAll(async () => {
    helm = await ensureHelm();
  }, 900_000);

  it.each([
    ["default values", () => ({})],
    [
      "HA, one watched namespace, tuned everything",
      () => ({
        replicaCount: 3,
        watchNamespace: ns(),
        workers: 4,
        image: {
          repository: "registry.example/churn/operator",
          digest: `sha256:${"b".repeat(64)}`,
        },
        podLabels: { team: "ml" },
        podAnnotations: { "example.com/owner": "ml-platform" },
        nodeSelector: { "kubernetes.io/os": "linux" },
        tolerations: [{ key: "dedicated", operator: "Equal", value: "ml", effect: "NoSchedule" }],
        topologySpreadConstraints: [
          {
            maxSkew: 1,
            topologyKey: "kubernetes.io/hostname",
            whenUnsatisfiable: "ScheduleAnyway",
            labelSelector: { matchLabels: { "app.kubernetes.io/name": "churn-operator" } },
          },
        ],
        extraEnv: [{ name: "NODE_OPTIONS", value: "--max-old-space-size=256" }],
        metricsService: { annotations: { "prometheus.io/scrape": "true" } },
      }),
    ],
  ])("%s: every object passes server-side validation", async (_label, values) => {
    const objects = renderChart(helm, {
      release: "dry",
      namespace: ns(),
      values: values(),
      extraArgs: ["--include-crds"],
    });
    expect(objects.map((o) => o.kind)).toContain("CustomResourceDefinition");
    for (const obj of objects) {
      const answered = await dryRunApply(client, obj);
      expect(answered.kind, `${obj.kind} ${obj.metadata.name}`).toBe(obj.kind);
      expect(answered.metadata.name).toBe(obj.metadata.name);
    }
  });

  it("the same dry-run path refuses an invalid object (so the checks above can fail)", async () => {
    const svc = only(renderChart(helm, { release: "dry", namespace: ns() }), "Service");
    svc.spec.ports[0].port = 70000;
    await expect(dryRunApply(client, svc)).rejects.toThrow(/port|Invalid/i);
    const deployment = only(renderChart(helm, { release: "dry", namespace: ns() }), "Deployment");
    deployment.spec.template.spec.containers[0].notAField = true;
    await expect(dryRunApply(client, deployment)).rejects.toThrow(
      /notAField|unknown field|not declared/i,
    );
  });
});

describe.skipIf(noProcessNode)("helm install", () => {
  const { cluster, ns } = useTestNamespace("chart");
  const client = adminClient(cluster.kc);
  let helm: string;
  const release = () => `churn-${ns().slice(-6)}`;
  const fullname = () => `${release()}-churn-operator`;

  beforeAll(async () => {
    helm = await ensureHelm();
  }, 900_000);
  // Before the namespace goes (its afterAll runs last).
  afterAll(() => {
    if (helm && ns()) {
      runHelm(helm, ["uninstall", release(), "--namespace", ns(), "--wait", "--timeout", "2m"]);
    }
  });

  it("runs the operator with the chart's RBAC: ready, leader elected, reconciling, scraped", async () => {
    const install = runHelm(helm, [
      "install",
      release(),
      chartDir,
      "--namespace",
      ns(),
      "--set",
      `watchNamespace=${ns()}`,
    ]);
    expect(install.status, install.stderr).toBe(0);
    // NOTES.txt renders with the release's facts.
    expect(install.stdout).toContain(`is installed in namespace ${ns()}`);
    expect(install.stdout).toContain(`watching namespace ${ns()}`);

    await waitFor(
      "the operator Deployment to be Available",
      async () => {
        const d = await client.get<V1Deployment>(Resources.deployments, ns(), fullname());
        return (d?.status?.availableReplicas ?? 0) >= 1;
      },
      { timeoutMs: 180_000 },
    );
    const pods = await client.list<V1Pod>(Resources.pods, ns(), {
      labelSelector: `app.kubernetes.io/instance=${release()},app.kubernetes.io/name=churn-operator`,
    });
    const pod = pods.items[0];
    expect(pods.items).toHaveLength(1);

    // Leader election through the chart's Role: the Lease names this pod.
    const lease = await waitFor("the leader Lease", async () => {
      const l = await client.get<ApiObject & { spec?: { holderIdentity?: string } }>(
        Resources.leases,
        ns(),
        fullname(),
      );
      return l?.spec?.holderIdentity ? l : undefined;
    });
    expect(lease.spec?.holderIdentity).toBe(pod?.metadata?.name);

    // Reconciling through the chart's ClusterRole (bound in this namespace only).
    await client.apply(
      churnModelType,
      {
        apiVersion: "churn.mlops.dev/v1alpha1",
        kind: "ChurnModel",
        metadata: { name: "idle", namespace: ns() },
        spec: {
          source: {
            artifact: { uri: `pvc://churn-models/${"2".repeat(64)}`, digest: "2".repeat(64) },
          },
          replicas: 0,
        },
      } as ChurnModel,
      { fieldManager: "integration-test", force: true },
    );
    const model = await waitFor(
      "the chart-installed operator to reconcile the ChurnModel",
      async () => {
        const m = await client.get<ChurnModel>(churnModelType, ns(), "idle");
        return m?.status?.observedGeneration === m?.metadata?.generation && m?.status?.phase
          ? m
          : undefined;
      },
    );
    expect(model.status?.serving?.digest).toBe("2".repeat(64));
    // One Deployment per model version, named by its digest.
    const version = versionDeploymentName(model, "2".repeat(64));
    expect(await client.get(Resources.deployments, ns(), version)).toBeDefined();

    // The metrics Service's endpoint answers with the series the alerts and dashboard use.
    const metrics = await waitFor("operator metrics on the pod IP", async () => {
      const res = await fetch(`http://${pod?.status?.podIP}:8080/metrics`);
      const text = await res.text();
      return /controller_runtime_reconcile_total\{controller="churnmodel",result="success"\} [1-9]/.test(
        text,
      )
        ? text
        : undefined;
    });
    expect(metrics).toContain(`leader_election_master_status{name="${fullname()}"} 1`);
    // Rollout series name the model's own namespace (why the ServiceMonitor honours labels),
    // and the rollback counter starts at zero (why ChurnRolloutRolledBack sees the first one).
    expect(metrics).toMatch(
      new RegExp(
        `churn_rollout_phase\\{namespace="${ns()}",churn_model="idle",phase="Promoted"\\} [01]`,
      ),
    );
    expect(metrics).toContain('churn_rollouts_total{outcome="RolledBack",reason="RolledBack"} 0');

    // `helm template` and the installed release agree (the manifest helm stored).
    const manifest = runHelm(helm, ["get", "manifest", release(), "--namespace", ns()]);
    expect(
      parseManifests(manifest.stdout)
        .map((o) => o.kind)
        .sort(),
    ).toEqual(
      renderChart(helm, { release: release(), namespace: ns(), values: { watchNamespace: ns() } })
        .map((o) => o.kind)
        .sort(),
    );
  });
});
