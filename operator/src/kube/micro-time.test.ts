import { describe, expect, it } from "vitest";
import { formatMicroTime, parseKubeTime } from "./micro-time.js";

describe("formatMicroTime", () => {
  it("writes six fractional digits, as the apiserver's MicroTime requires", () => {
    expect(formatMicroTime(new Date("2026-11-28T04:00:00.123Z"))).toBe(
      "2026-11-28T04:00:00.123000Z",
    );
    expect(formatMicroTime(new Date(0))).toMatch(/^1970-01-01T00:00:00\.000000Z$/);
  });
  it("rejects an invalid date", () => {
    expect(() => formatMicroTime(new Date("nope"))).toThrow(/invalid date/);
  });
  it("parses what it formats and what the apiserver returns", () => {
    const d = new Date("2026-11-28T04:00:00.123Z");
    expect(parseKubeTime(formatMicroTime(d))?.getTime()).toBe(d.getTime());
    expect(parseKubeTime("2026-11-28T04:00:00.123456Z")?.getTime()).toBe(d.getTime());
    expect(parseKubeTime(undefined)).toBeUndefined();
    expect(parseKubeTime("garbage")).toBeUndefined();
  });
});
