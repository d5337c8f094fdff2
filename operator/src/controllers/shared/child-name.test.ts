import { describe, expect, it } from "vitest";
import { childName } from "./child-name.js";

describe("childName", () => {
  it("joins short names as they are", () => {
    expect(childName("bank", "train")).toBe("bank-train");
  });
  it("cuts long names to the limit, deterministically and without collisions", () => {
    const a = childName(`${"x".repeat(70)}a`, "train");
    const b = childName(`${"x".repeat(70)}b`, "train");
    expect(a.length).toBeLessThanOrEqual(63);
    expect(a).toMatch(/-train$/);
    expect(a).not.toBe(b);
    expect(childName(`${"x".repeat(70)}a`, "train")).toBe(a);
  });
});
