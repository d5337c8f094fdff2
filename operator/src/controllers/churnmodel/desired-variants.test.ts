import { describe, expect, it } from "vitest";
import { canaryReplicas, desiredVariants, type VariantSizing } from "./desired-variants.js";

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
