import { describe, expect, it } from "vitest";
import { apiVersionOf, resourcePath } from "./resource-type.js";
import { Resources } from "./resources.js";

describe("resourcePath", () => {
  it("builds core, grouped, cluster-scoped and subresource paths", () => {
    expect(resourcePath(Resources.pods, "ns")).toBe("/api/v1/namespaces/ns/pods");
    expect(resourcePath(Resources.jobs, "ns", "j")).toBe("/apis/batch/v1/namespaces/ns/jobs/j");
    expect(resourcePath(Resources.jobs)).toBe("/apis/batch/v1/jobs");
    expect(resourcePath(Resources.namespaces, undefined, "x")).toBe("/api/v1/namespaces/x");
    expect(resourcePath(Resources.deployments, "ns", "d", "status")).toBe(
      "/apis/apps/v1/namespaces/ns/deployments/d/status",
    );
  });
  it("refuses a named namespaced object without a namespace", () => {
    expect(() => resourcePath(Resources.pods, undefined, "p")).toThrow(/namespace is required/);
  });
  it("gives apiVersion strings", () => {
    expect(apiVersionOf(Resources.pods)).toBe("v1");
    expect(apiVersionOf(Resources.leases)).toBe("coordination.k8s.io/v1");
  });
});
