import type { V1Deployment } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import type { Variant } from "./desired-variants.js";
import type { SourceResolution } from "./resolve-source.js";
import { decideServingStatus } from "./serving-status.js";

const digest = "e".repeat(64);
const variant: Variant = {
  name: "stable",
  version: { digest, uri: `pvc://m/${digest}` },
  replicas: 2,
};
const resolved: SourceResolution = {
  state: "resolved",
  version: variant.version,
  reason: "SourceResolved",
  message: "",
};
const dep = (status: V1Deployment["status"], generation = 1): V1Deployment => ({
  metadata: { name: "bank-stable", generation },
  status: { observedGeneration: 1, ...status },
});
const decide = (d: V1Deployment | undefined, r: SourceResolution = resolved, vs = [variant]) =>
  decideServingStatus(r, vs, new Map(d ? [["bank-stable", d]] : []), () => "bank-stable", 4);
const status = (o: ReturnType<typeof decide>) =>
  Object.fromEntries(o.conditions.map((c) => [c.type, c.status]));

describe("decideServingStatus", () => {
  it("is Ready when every replica runs the current spec", () => {
    const o = decide(dep({ replicas: 2, updatedReplicas: 2, readyReplicas: 2 }));
    expect(o.phase).toBe("Ready");
    expect(status(o)).toEqual({ Ready: "True", Progressing: "False", Degraded: "False" });
    expect([o.replicas, o.readyReplicas]).toEqual([2, 2]);
    expect(o.variants).toEqual([
      { name: "stable", digest, deployment: "bank-stable", replicas: 2, readyReplicas: 2 },
    ]);
  });
  it("with router traffic, is not Ready until the router is up", () => {
    const up = dep({ replicas: 2, updatedReplicas: 2, readyReplicas: 2 });
    const router = (ready: number) => ({
      deployment: dep({ replicas: 1, updatedReplicas: 1, readyReplicas: ready }),
      replicas: 1,
    });
    const d = (r: ReturnType<typeof router>) =>
      decideServingStatus(
        resolved,
        [variant],
        new Map([["bank-stable", up]]),
        () => "bank-stable",
        4,
        r,
      );
    const waiting = d(router(0));
    expect(waiting.phase).toBe("Progressing");
    expect(status(waiting).Ready).toBe("False");
    expect(waiting.message).toMatch(/^waiting for the router/);
    expect([waiting.replicas, waiting.readyReplicas]).toEqual([2, 2]);
    expect(d(router(1)).phase).toBe("Ready");
  });
  it("is ScaledToZero with a router scaled to zero too", () => {
    const zero = { ...variant, replicas: 0 };
    const none = dep({ replicas: 0, updatedReplicas: 0, readyReplicas: 0 });
    const o = decideServingStatus(
      resolved,
      [zero],
      new Map([["bank-stable", none]]),
      () => "bank-stable",
      4,
      {
        deployment: none,
        replicas: 0,
      },
    );
    expect([o.phase, o.reason]).toEqual(["Ready", "ScaledToZero"]);
  });
  it("is Degraded at once, naming why, when the pods refuse their artifact", () => {
    const why = "pod bank-stable-1 refused the model artifact: digest mismatch";
    const o = decideServingStatus(
      resolved,
      [variant],
      new Map([["bank-stable", dep({ replicas: 2, updatedReplicas: 2, readyReplicas: 0 })]]),
      () => "bank-stable",
      4,
      undefined,
      (d) => (d === "bank-stable" ? why : undefined),
    );
    expect([o.phase, o.reason, o.message]).toEqual(["Degraded", "ArtifactRejected", why]);
    const ready = o.conditions.find((c) => c.type === "Ready");
    expect([ready?.status, ready?.reason]).toEqual(["False", "ArtifactRejected"]);
    expect(o.conditions.find((c) => c.type === "Degraded")?.message).toBe(why);
  });
  it("is Progressing while pods start, and not Ready with none ready", () => {
    const o = decide(dep({ replicas: 1, updatedReplicas: 1, readyReplicas: 0 }));
    expect(o.phase).toBe("Progressing");
    expect(status(o)).toEqual({ Ready: "False", Progressing: "True", Degraded: "False" });
  });
  it("stays Ready during a rolling update while old pods serve", () => {
    const o = decide(dep({ replicas: 3, updatedReplicas: 1, readyReplicas: 2 }));
    expect(o.phase).toBe("Progressing");
    expect(status(o).Ready).toBe("True");
  });
  it("is not rolled out when the Deployment controller has not seen the new generation", () => {
    const o = decide(dep({ replicas: 2, updatedReplicas: 2, readyReplicas: 2 }, 2));
    expect(o.phase).toBe("Progressing");
  });
  it("is Degraded when the rollout stalls", () => {
    const o = decide(
      dep({
        replicas: 2,
        updatedReplicas: 1,
        readyReplicas: 0,
        conditions: [
          {
            type: "Progressing",
            status: "False",
            reason: "ProgressDeadlineExceeded",
            message: "timed out",
          },
        ],
      }),
    );
    expect([o.phase, o.reason]).toEqual(["Degraded", "RolloutStalled"]);
    expect(status(o).Degraded).toBe("True");
  });
  it("is Pending or Failed with no variant, carrying the source's reason", () => {
    const waiting = decide(
      undefined,
      { state: "waiting", reason: "SourceNotReady", message: "r1 is Training" },
      [],
    );
    expect([waiting.phase, waiting.reason]).toEqual(["Pending", "SourceNotReady"]);
    const failed = decide(
      undefined,
      { state: "failed", reason: "SourceFailed", message: "r1 failed" },
      [],
    );
    expect([failed.phase, status(failed).Degraded]).toEqual(["Failed", "True"]);
  });
});
