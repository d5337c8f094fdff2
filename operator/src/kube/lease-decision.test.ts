import { describe, expect, it } from "vitest";
import { decideLease } from "./lease-decision.js";

describe("decideLease", () => {
  const rec = (holderIdentity?: string) => ({ holderIdentity, leaseDurationSeconds: 15 });
  it.each([
    ["no lease yet", undefined, 0, 0, "acquire"],
    ["released (empty holder)", rec(""), 0, 0, "acquire"],
    ["held by me", rec("me"), 0, 100_000, "renew"],
    ["held by other, fresh", rec("other"), 1_000, 15_999, "wait"],
    ["held by other, expired at exactly the duration", rec("other"), 1_000, 16_000, "acquire"],
    ["held by other, long expired", rec("other"), 0, 60_000, "acquire"],
  ] as const)("%s -> %s", (_name, record, observedAt, now, want) => {
    expect(decideLease(record, "me", observedAt, now)).toBe(want);
  });
});
