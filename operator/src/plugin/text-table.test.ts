import { describe, expect, it } from "vitest";
import { palette } from "./palette.js";
import { textTable } from "./text-table.js";

describe("textTable", () => {
  it("aligns columns two spaces apart and trims line ends", () => {
    expect(
      textTable(
        [
          ["METRIC", "VERDICT", "SAMPLES"],
          ["successRate", "Pass", ""],
          ["p99", "Inconclusive", "12"],
        ],
        "  ",
      ),
    ).toEqual([
      "  METRIC       VERDICT       SAMPLES",
      "  successRate  Pass",
      "  p99          Inconclusive  12",
    ]);
  });

  it("measures coloured cells by what the terminal shows", () => {
    const p = palette(true);
    const lines = textTable([
      [p.green("ok"), "a"],
      ["longer", "b"],
    ]);
    expect(lines[0]).toBe(`${p.green("ok")}      a`);
    expect(lines[1]).toBe("longer  b");
  });
});
