import { describe, expect, it } from "vitest";
import { matchesSelector } from "./label-selector.js";

describe("matchesSelector", () => {
  const labels = { team: "risk", tier: "gold" };
  it.each([
    ["empty selector", {}, true],
    ["matchLabels hit", { matchLabels: { team: "risk" } }, true],
    ["matchLabels miss", { matchLabels: { team: "ops" } }, false],
    [
      "In",
      { matchExpressions: [{ key: "tier", operator: "In", values: ["gold", "silver"] }] },
      true,
    ],
    [
      "In on missing key",
      { matchExpressions: [{ key: "x", operator: "In", values: ["a"] }] },
      false,
    ],
    ["NotIn", { matchExpressions: [{ key: "tier", operator: "NotIn", values: ["gold"] }] }, false],
    [
      "NotIn on missing key",
      { matchExpressions: [{ key: "x", operator: "NotIn", values: ["a"] }] },
      true,
    ],
    ["Exists", { matchExpressions: [{ key: "team", operator: "Exists" }] }, true],
    ["DoesNotExist", { matchExpressions: [{ key: "team", operator: "DoesNotExist" }] }, false],
    [
      "all must hold",
      {
        matchLabels: { team: "risk" },
        matchExpressions: [{ key: "tier", operator: "In", values: ["x"] }],
      },
      false,
    ],
  ])("%s", (_n, selector, want) => {
    expect(matchesSelector(labels, selector)).toBe(want);
  });
  it("names an unknown operator", () => {
    expect(() =>
      matchesSelector({}, { matchExpressions: [{ key: "a", operator: "Near" }] }),
    ).toThrow(/Near/);
  });
});
