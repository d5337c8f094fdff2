import { describe, expect, it } from "vitest";
import {
  autoscaledVariants,
  canaryReplicas,
  desiredVariants,
  type VariantSizing,
} from "./desired-variants.js";

const v = (c: string) => ({ digest: c.repeat(64), uri: `pvc://m/${c.repeat(64)}` });
const sizing = (over: Partial<VariantSizing> = {}): VariantSizing => ({
  replicas: 3,
  routing: "router",
  weight: 0,
  mirrorPercent: 0,
  ...over,
});

describe("desiredVariants", () => {
  it("runs one stable variant with every replica when nothing rolls out", () => {
    expect(desiredVariants(v("a"), undefined, sizing())).toEqual([
      { name: "stable", version: v("a"), replicas: 3 },
    ]);
  });
  it("adds the canary beside a full-sized stable variant", () => {
    expect(desiredVariants(v("a"), v("b"), sizing({ weight: 10 }))).toEqual([
      { name: "stable", version: v("a"), replicas: 3 },
      { name: "canary", version: v("b"), replicas: 1 },
    ]);
  });
  it("runs nothing before any version exists", () => {
    expect(desiredVariants(undefined, v("b"), sizing())).toEqual([]);
  });
});

describe("canaryReplicas", () => {
  it.each([
    // routing, replicas, weight, mirror -> canary pods
    ["router", 3, 0, 0, 1],
    ["router", 3, 0, 100, 3],
    ["router", 4, 25, 0, 1],
    ["router", 4, 50, 0, 2],
    ["replicas", 3, 0, 0, 0],
    ["replicas", 3, 10, 0, 1],
    ["replicas", 3, 50, 0, 3],
    ["replicas", 9, 25, 0, 3],
    ["replicas", 3, 100, 0, 3],
  ] as const)(
    "%s, %i stable pods, weight %i, mirror %i: %i",
    (routing, replicas, weight, mirrorPercent, want) => {
      expect(canaryReplicas({ routing, replicas, weight, mirrorPercent })).toBe(want);
    },
  );
});

describe("autoscaledVariants", () => {
  const bounds = { minReplicas: 2, maxReplicas: 8, targetCPUUtilizationPercent: 70 };
  const two = (weight: number) => desiredVariants(v("a"), v("b"), sizing({ weight }));

  it("leaves the variants alone without autoscaling", () => {
    expect(autoscaledVariants(two(10), undefined, sizing({ weight: 10 }), () => 5)).toEqual(
      two(10),
    );
  });
  it("starts new Deployments at their floor: the spec's for stable, the share's for the canary", () => {
    const out = autoscaledVariants(two(50), bounds, sizing({ weight: 50 }), () => undefined);
    expect(out.map((x) => [x.name, x.replicas, x.autoscale])).toEqual([
      ["stable", 2, { minReplicas: 2, maxReplicas: 8 }],
      ["canary", 1, { minReplicas: 1, maxReplicas: 8 }],
    ]);
  });
  it("keeps what the autoscaler chose, inside the bounds", () => {
    const now = new Map([
      ["stable", 6],
      ["canary", 20],
    ]);
    const out = autoscaledVariants(two(10), bounds, sizing({ weight: 10 }), (x) => now.get(x.name));
    expect(out.map((x) => x.replicas)).toEqual([6, 8]);
  });
  it("keeps the stable floor whatever the canary's share (full capacity during a canary)", () => {
    const out = autoscaledVariants(two(100), bounds, sizing({ weight: 100 }), () => 1);
    expect(out.map((x) => [x.name, x.replicas, x.autoscale?.minReplicas])).toEqual([
      ["stable", 2, 2],
      ["canary", 2, 2],
    ]);
  });
  it("never gives a canary a floor above the ceiling", () => {
    const tight = { minReplicas: 3, maxReplicas: 3 };
    const out = autoscaledVariants(two(100), tight, sizing({ weight: 100 }), () => undefined);
    expect(out.map((x) => x.autoscale)).toEqual([
      { minReplicas: 3, maxReplicas: 3 },
      { minReplicas: 3, maxReplicas: 3 },
    ]);
  });
});
