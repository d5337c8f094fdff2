import { beforeAll, describe, expect, it } from "vitest";
import { testCluster } from "../../../cluster/testing/index.js";
import type { KubeClient } from "../../../operator/src/kube/kube-client.js";
import { installRbac, OPERATOR_NAMESPACE } from "./support/install.js";
import { adminClient } from "./support/kube.js";

// config/rbac grants exactly what the controllers use (the other suites run the operator with
// it); this asks the apiserver's authorizer what it grants beyond that: nothing.
describe("operator RBAC (config/rbac)", () => {
  let client: KubeClient;
  const user = `system:serviceaccount:${OPERATOR_NAMESPACE}:churn-operator`;

  beforeAll(async () => {
    client = adminClient(testCluster().kc);
    await installRbac(client);
  });

  async function allowed(
    verb: string,
    group: string,
    resource: string,
    namespace = "team-a",
    subresource?: string,
  ) {
    const review = await client.request<{ status: { allowed: boolean } }>(
      "POST",
      "/apis/authorization.k8s.io/v1/subjectaccessreviews",
      {
        body: {
          apiVersion: "authorization.k8s.io/v1",
          kind: "SubjectAccessReview",
          spec: {
            user,
            groups: ["system:serviceaccounts", `system:serviceaccounts:${OPERATOR_NAMESPACE}`],
            resourceAttributes: { verb, group, resource, namespace, subresource },
          },
        },
      },
    );
    return review.status.allowed;
  }

  it.each([
    ["watch", "churn.mlops.dev", "trainingruns", undefined],
    ["patch", "churn.mlops.dev", "trainingruns", "status"],
    ["patch", "churn.mlops.dev", "churnmodels", "status"],
    ["watch", "churn.mlops.dev", "scoringruns", undefined],
    ["patch", "churn.mlops.dev", "scoringruns", "status"],
    ["create", "churn.mlops.dev", "scoringruns", undefined],
    ["delete", "churn.mlops.dev", "scoringruns", undefined],
    ["create", "batch", "jobs", undefined],
    ["watch", "", "pods", undefined],
    ["patch", "apps", "deployments", undefined],
    ["delete", "apps", "deployments", undefined],
    ["patch", "", "services", undefined],
    ["create", "", "events", undefined],
    ["watch", "", "configmaps", undefined],
    ["create", "rbac.authorization.k8s.io", "roles", undefined],
    ["create", "rbac.authorization.k8s.io", "rolebindings", undefined],
    ["delete", "", "services", undefined],
  ])("may %s %s/%s %s", async (verb, group, resource, sub) => {
    expect(await allowed(verb, group, resource, "team-a", sub)).toBe(true);
  });

  it.each([
    ["get", "", "secrets"],
    ["list", "", "secrets"],
    ["create", "", "pods"],
    ["delete", "", "pods"],
    ["get", "", "pods/log"],
    ["delete", "batch", "jobs"],
    ["update", "churn.mlops.dev", "trainingruns"],
    ["delete", "churn.mlops.dev", "churnmodels"],
    ["update", "churn.mlops.dev", "scoringruns"],
    ["escalate", "rbac.authorization.k8s.io", "roles"],
    ["bind", "rbac.authorization.k8s.io", "roles"],
    ["bind", "rbac.authorization.k8s.io", "clusterroles"],
    ["create", "rbac.authorization.k8s.io", "clusterrolebindings"],
    ["create", "apiextensions.k8s.io", "customresourcedefinitions"],
    ["update", "coordination.k8s.io", "leases"],
  ])("may not %s %s/%s", async (verb, group, resource) => {
    const [res, sub] = resource.split("/");
    expect(await allowed(verb, group, res as string, "team-a", sub)).toBe(false);
  });

  it("may update its leader Lease only in its own namespace", async () => {
    expect(await allowed("update", "coordination.k8s.io", "leases", OPERATOR_NAMESPACE)).toBe(true);
    expect(await allowed("update", "coordination.k8s.io", "leases", "kube-system")).toBe(false);
  });
});
