import { describe, expect, it } from "vitest";
import { IsotonicMap } from "./compiled-scorer.js";

describe("the compiled isotonic map", () => {
  it("stays inside [0, 1] like the graph's final Clip where float32 sums overshoot", () => {
    // Knots and values for which the float32 sum of the segments comes to 1.0000001.
    const knots = [0, 0.26245299, 0.99853488, 1.63117345, 2.62221083, 2.86924972, 3.59191012];
    const values = [0.0762198, 0.09995206, 0.26406917, 0.64227442, 0.82494375, 1, 1];
    const map = new IsotonicMap(knots, values);
    for (const p of [-1, 0, 0.5, 2.9, 3.59191012, 4, 10]) {
      const y = map.apply(p);
      expect(y).toBeGreaterThanOrEqual(0);
      expect(y).toBeLessThanOrEqual(1);
    }
    expect(map.apply(10)).toBe(1);
  });
});
