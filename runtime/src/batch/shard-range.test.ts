import { describe, expect, it } from "vitest";
import { shardRange } from "./shard-range.js";

describe("shardRange", () => {
  it.each([
    [10, 1],
    [10, 3],
    [10, 4],
    [3, 5],
    [0, 2],
    [1_000_003, 7],
  ])("splits %i items into %i contiguous shards covering each item once", (total, shards) => {
    const ranges = Array.from({ length: shards }, (_, i) => shardRange(total, shards, i));
    expect(ranges[0]?.start).toBe(0);
    expect(ranges.at(-1)?.end).toBe(total);
    for (let i = 1; i < shards; i++) expect(ranges[i]?.start).toBe(ranges[i - 1]?.end);
    const sizes = ranges.map((r) => r.end - r.start);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });

  it("refuses an index outside the shards", () => {
    expect(() => shardRange(10, 4, 4)).toThrow(/outside 0..3/);
    expect(() => shardRange(10, 0, 0)).toThrow(/shards/);
  });
});
