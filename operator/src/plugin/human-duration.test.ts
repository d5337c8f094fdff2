import { describe, expect, it } from "vitest";
import { ago, humanDuration } from "./human-duration.js";

const s = 1000;
const m = 60 * s;
const h = 60 * m;
const d = 24 * h;

describe("humanDuration (kubectl's ages)", () => {
  it.each([
    [-5 * s, "0s"],
    [0, "0s"],
    [59_999, "59s"],
    [119 * s, "119s"],
    [2 * m, "2m"],
    [3 * m + 12 * s, "3m12s"],
    [10 * m + 30 * s, "10m"],
    [179 * m, "179m"],
    [3 * h, "3h"],
    [5 * h + 3 * m, "5h3m"],
    [8 * h + 59 * m, "8h"],
    [47 * h, "47h"],
    [2 * d, "2d"],
    [2 * d + 4 * h, "2d4h"],
    [40 * d, "40d"],
    [2 * 365 * d + 45 * d, "2y45d"],
    [9 * 365 * d + 45 * d, "9y"],
  ])("%d ms -> %s", (ms, text) => expect(humanDuration(ms)).toBe(text));
});

describe("ago", () => {
  const now = new Date("2026-03-01T12:00:00Z");
  it.each([
    ["2026-03-01T11:59:15Z", "45s ago"],
    ["2026-03-01T11:00:00Z", "60m ago"],
    [undefined, "?"],
    ["yesterday", "?"],
  ])("%s -> %s", (at, text) => expect(ago(at, now)).toBe(text));
});
