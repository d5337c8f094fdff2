import { describe, expect, it } from "vitest";
import { stagingReplaces, stagingVersion } from "./build-binaries.js";

describe("stagingReplaces", () => {
  const upstream = [
    "module k8s.io/kubernetes",
    "replace (",
    "\tk8s.io/api => ./staging/src/k8s.io/api",
    "\tk8s.io/client-go => ./staging/src/k8s.io/client-go",
    "\tgithub.com/other/mod => github.com/fork/mod v1.0.0",
    ")",
    "replace k8s.io/kms => ./staging/src/k8s.io/kms",
  ].join("\n");

  it("points every staging module at its published v0 tag", () => {
    expect(stagingReplaces(upstream, "v1.37.2")).toEqual([
      "k8s.io/api => k8s.io/api v0.37.2",
      "k8s.io/client-go => k8s.io/client-go v0.37.2",
      "k8s.io/kms => k8s.io/kms v0.37.2",
    ]);
  });

  it("fails loudly when upstream has no staging replaces", () => {
    expect(() => stagingReplaces("module x\n", "v1.37.2")).toThrow(/no staging replace/);
  });

  it("rejects a version that is not v1.N.M", () => {
    expect(stagingVersion("v1.36.3")).toBe("v0.36.3");
    expect(() => stagingVersion("1.37")).toThrow(/v1\.N\.M/);
  });
});
