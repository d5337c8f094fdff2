import { describe, expect, it } from "vitest";
import { Backoff } from "./backoff.js";

describe("Backoff", () => {
  it("doubles up to the cap, with jitter inside [ceiling/2, ceiling]", () => {
    const lo = new Backoff(100, 1000, () => 0);
    const hi = new Backoff(100, 1000, () => 1);
    expect([lo.next(), lo.next(), lo.next(), lo.next(), lo.next()]).toEqual([
      50, 100, 200, 400, 500,
    ]);
    expect([hi.next(), hi.next(), hi.next(), hi.next(), hi.next()]).toEqual([
      100, 200, 400, 800, 1000,
    ]);
  });
  it("starts over after reset", () => {
    const b = new Backoff(100, 1000, () => 1);
    b.next();
    b.next();
    expect(b.attempts).toBe(2);
    b.reset();
    expect(b.next()).toBe(100);
  });
  it("rejects nonsense bounds", () => {
    expect(() => new Backoff(0, 10)).toThrow(/0 < baseMs <= maxMs/);
    expect(() => new Backoff(10, 5)).toThrow(/0 < baseMs <= maxMs/);
  });
});
