import { describe, expect, it } from "vitest";
import { colorWanted, palette, visible } from "./palette.js";

describe("colorWanted", () => {
  it.each([
    [true, {}, true],
    [false, {}, false],
    [true, { NO_COLOR: "1" }, false],
    [true, { NO_COLOR: "" }, true],
    [true, { TERM: "dumb" }, false],
    [true, { TERM: "xterm-256color" }, true],
  ])("tty %s, env %j -> %s", (tty, env, want) => expect(colorWanted(tty, env)).toBe(want));
});

describe("palette", () => {
  it("styles with SGR codes when on and not at all when off", () => {
    expect(palette(true).red("x")).toBe("\x1b[31mx\x1b[39m");
    expect(palette(false).red("x")).toBe("x");
    expect(visible(palette(true).bold(palette(true).green("ok")))).toBe("ok");
  });
});
