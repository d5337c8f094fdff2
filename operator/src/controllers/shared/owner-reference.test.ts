import { describe, expect, it } from "vitest";
import { childMetadata, controllerRef } from "./owner-reference.js";

const owner = {
  apiVersion: "churn.mlops.dev/v1alpha1",
  kind: "ScoringRun",
  metadata: { name: "nightly", namespace: "retention", uid: "u-1" },
};

describe("controllerRef", () => {
  it("makes the owner the controller, blocking its deletion until children are gone", () => {
    expect(controllerRef(owner)).toEqual({
      apiVersion: "churn.mlops.dev/v1alpha1",
      kind: "ScoringRun",
      name: "nightly",
      uid: "u-1",
      controller: true,
      blockOwnerDeletion: true,
    });
  });

  it("refuses an owner the apiserver has not stored yet (no uid)", () => {
    const unsaved = { ...owner, metadata: { name: "nightly", namespace: "retention" } };
    expect(() => controllerRef(unsaved)).toThrow(/uid/);
  });
});

describe("childMetadata", () => {
  it("puts the child in its owner's namespace with the given name, labels and owner", () => {
    const meta = childMetadata(owner, "nightly-score", { app: "x" });
    expect(meta).toEqual({
      name: "nightly-score",
      namespace: "retention",
      labels: { app: "x" },
      ownerReferences: [controllerRef(owner)],
    });
  });
});
