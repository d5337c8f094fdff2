import { describe, expect, it } from "vitest";
import { PodIpPool } from "./pod-network.js";

describe("PodIpPool", () => {
  it("hands addresses out round-robin, so a freed address is not reused at once", () => {
    const pool = new PodIpPool("10.244.3.0/24");
    const a = pool.allocate();
    const b = pool.allocate();
    expect([a, b]).toEqual(["10.244.3.2", "10.244.3.3"]);
    pool.release(a);
    expect(pool.allocate()).toBe("10.244.3.4");
  });

  it("wraps around and reports exhaustion", () => {
    const pool = new PodIpPool("10.244.3.0/24");
    const all = Array.from({ length: 253 }, () => pool.allocate());
    expect(new Set(all).size).toBe(253);
    expect(() => pool.allocate()).toThrow(/exhausted/);
    pool.release("10.244.3.7");
    expect(pool.allocate()).toBe("10.244.3.7");
  });

  it("rejects anything but a /24", () => {
    expect(() => new PodIpPool("10.244.0.0/16")).toThrow(/a\.b\.c\.0\/24/);
  });
});
