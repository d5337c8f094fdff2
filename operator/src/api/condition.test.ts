import { describe, expect, it } from "vitest";
import { findCondition, setCondition } from "./condition.js";

const t1 = new Date("2026-11-28T04:00:00.500Z");
const t2 = new Date("2026-11-28T05:00:00Z");

describe("setCondition", () => {
  it("adds a new condition with the transition time at second precision", () => {
    const out = setCondition(
      undefined,
      { type: "Ready", status: "False", reason: "A", message: "m" },
      t1,
    );
    expect(out).toEqual([
      {
        type: "Ready",
        status: "False",
        reason: "A",
        message: "m",
        lastTransitionTime: "2026-11-28T04:00:00Z",
      },
    ]);
  });
  it("keeps the transition time when only reason or message change", () => {
    const a = setCondition([], { type: "Ready", status: "False", reason: "A", message: "m" }, t1);
    const b = setCondition(a, { type: "Ready", status: "False", reason: "B", message: "n" }, t2);
    expect(b[0]?.lastTransitionTime).toBe("2026-11-28T04:00:00Z");
    expect(b[0]?.reason).toBe("B");
    expect(a[0]?.reason).toBe("A");
  });
  it("moves the transition time when the status flips, keeping order", () => {
    let c = setCondition([], { type: "A", status: "False", reason: "x", message: "" }, t1);
    c = setCondition(c, { type: "B", status: "True", reason: "x", message: "" }, t1);
    c = setCondition(c, { type: "A", status: "True", reason: "y", message: "" }, t2);
    expect(c.map((x) => x.type)).toEqual(["A", "B"]);
    expect(findCondition(c, "A")?.lastTransitionTime).toBe("2026-11-28T05:00:00Z");
    expect(findCondition(c, "C")).toBeUndefined();
  });
});
