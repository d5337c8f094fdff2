import { describe, expect, it } from "vitest";
import { typedCell, typedText } from "./csv-record.js";

const cells = [
  "",
  "0",
  "-0",
  "0.0",
  "-0.0",
  "42",
  "-17",
  "123006.62",
  "0.1",
  "5.",
  ".5",
  "-",
  ".",
  "1.2.3",
  "1e3",
  " 12",
  "0x1F",
  "+5",
  "999999999999999",
  "9999999999999999",
  "123456789012345678.25",
  "0.1000000000000000055511151231257827",
  "00123",
  "true",
  "FALSE",
  "Germany",
  "Müller",
];

describe("typedText", () => {
  it.each(["numeric", "integer", "boolean", "categorical", undefined])(
    "types a %s cell exactly as typedCell does, to the bit",
    (type) => {
      for (const cell of cells) {
        // Embedded in a line, as the batch reader hands it over.
        const line = `x,${cell},y`;
        expect(Object.is(typedText(line, 2, 2 + cell.length, type), typedCell(cell, type))).toBe(
          true,
        );
        expect(typedText(line, 2, 2 + cell.length, type)).toEqual(typedCell(cell, type));
      }
    },
  );

  it("agrees with Number() on many pseudo-random decimals", () => {
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 20000; i++) {
      const digits = String(Math.floor(next() * 10 ** (1 + (i % 15))));
      const point = i % (digits.length + 1);
      const cell = `${i % 3 === 0 ? "-" : ""}${digits.slice(0, point)}.${digits.slice(point)}`;
      expect(Object.is(typedText(cell, 0, cell.length, "numeric"), Number(cell))).toBe(true);
    }
  });
});
