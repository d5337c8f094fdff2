import { describe, expect, it } from "vitest";
import { rejectLimitBroken } from "./shard-summary.js";

describe("rejectLimitBroken", () => {
  it.each([
    { read: 1000, rejected: 0, maxRows: undefined, maxPercent: 0, broken: false },
    { read: 1000, rejected: 10, maxRows: undefined, maxPercent: 1, broken: false },
    { read: 1000, rejected: 11, maxRows: undefined, maxPercent: 1, broken: true },
    { read: 1000, rejected: 5, maxRows: 4, maxPercent: 100, broken: true },
    { read: 1000, rejected: 4, maxRows: 4, maxPercent: 100, broken: false },
    { read: 0, rejected: 0, maxRows: 0, maxPercent: 0, broken: false },
    { read: 3, rejected: 3, maxRows: undefined, maxPercent: 100, broken: false },
  ])("$rejected of $read rejected, limits $maxRows rows / $maxPercent%: broken $broken", (c) => {
    const why = rejectLimitBroken(c, { maxRows: c.maxRows, maxPercent: c.maxPercent });
    expect(why !== undefined).toBe(c.broken);
  });

  it("says which limit and by how much", () => {
    expect(rejectLimitBroken({ read: 200, rejected: 5 }, { maxPercent: 1 })).toBe(
      "5 of 200 rows rejected (2.50%), more than maxRejectedPercent 1",
    );
  });
});
