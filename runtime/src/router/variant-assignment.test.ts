import { describe, expect, it } from "vitest";
import type { TrafficConfig } from "./traffic-config.js";
import {
  BUCKETS,
  BucketSequence,
  bucketOf,
  inShare,
  variantFor,
  variantOfKey,
} from "./variant-assignment.js";

const config = (weight: number, digest = "b".repeat(64)): TrafficConfig => ({
  model: "bank",
  stable: { digest: "a".repeat(64), url: "http://stable" },
  canary: { digest, url: "http://canary", weight, mirrorPercent: 0 },
  stickyHeader: null,
});
const ids = Array.from({ length: 10_000 }, (_, i) => String(15_000_000 + i));
const share = (weight: number, keys = ids, digest?: string) =>
  keys.filter((k) => variantOfKey(config(weight, digest), k) === "canary").length / keys.length;

describe("sticky assignment", () => {
  it("gives each weight its share of customers within a point (sequential ids)", () => {
    for (const w of [1, 5, 10, 25, 50, 90]) {
      expect(Math.abs(share(w) * 100 - w)).toBeLessThan(1);
    }
    expect(share(0)).toBe(0);
    expect(share(100)).toBe(1);
  });

  it("spreads keys over all buckets evenly", () => {
    const counts = new Array<number>(10).fill(0);
    for (const k of ids) {
      const decile = Math.floor(bucketOf(k, "salt") / 1000);
      counts[decile] = (counts[decile] ?? 0) + 1;
    }
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(100);
  });

  it("only moves customers from stable to canary as the weight rises", () => {
    const weights = [0, 1, 10, 25, 50, 75, 100];
    for (const k of ids.slice(0, 2000)) {
      const variants = weights.map((w) => variantOfKey(config(w), k));
      const firstCanary = variants.indexOf("canary");
      if (firstCanary >= 0)
        expect(variants.slice(firstCanary).every((v) => v === "canary")).toBe(true);
    }
  });

  it("is the same on every call and every replica, and differs per canary", () => {
    const a = ids.map((k) => variantOfKey(config(10), k));
    expect(ids.map((k) => variantOfKey(config(10), k))).toEqual(a);
    // Another rollout's canary takes another slice: about 10% of 10% overlap, not all of it.
    const other = ids.filter(
      (k, i) => a[i] === "canary" && variantOfKey(config(10, "c".repeat(64)), k) === "canary",
    ).length;
    expect(other).toBeLessThan(300);
  });

  it("resolves weights to hundredths of a percent", () => {
    expect(inShare(0, 0.01)).toBe(true);
    expect(inShare(1, 0.01)).toBe(false);
    expect(inShare(1249, 12.5)).toBe(true);
    expect(inShare(1250, 12.5)).toBe(false);
    expect(inShare(BUCKETS - 1, 100)).toBe(true);
    expect(variantFor({ ...config(50), canary: null }, 0)).toBe("stable");
  });
});

describe("requests without a key", () => {
  it("visit every bucket once per 10,000 draws", () => {
    const seq = new BucketSequence(1234);
    const seen = new Set(Array.from({ length: BUCKETS }, () => seq.draw()));
    expect(seen.size).toBe(BUCKETS);
  });

  it("split any window of requests by the weight, to within two requests", () => {
    const seq = new BucketSequence(0);
    for (const window of [100, 1000, 3333]) {
      for (const w of [1, 10, 33]) {
        const canary = Array.from({ length: window }, () => inShare(seq.draw(), w)).filter(Boolean);
        expect(Math.abs(canary.length - (window * w) / 100)).toBeLessThanOrEqual(2);
      }
    }
  });
});
