import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GO_MIN_VERSION } from "./build-cache.mjs";
import { BuildProgress } from "./build-progress.js";
import { goBuild } from "./go-command.js";

describe("goBuild", () => {
  it("counts the library packages go compiles against those go list says are not built, then links", async () => {
    const src = mkdtempSync(join(tmpdir(), "go-build-progress-"));
    writeFileSync(join(src, "go.mod"), `module example.local/app\n\ngo ${GO_MIN_VERSION}\n`);
    // A constant no earlier run compiled: both packages are new to the build cache.
    mkdirSync(join(src, "lib"));
    const salt = randomBytes(8).toString("hex");
    writeFileSync(join(src, "lib", "lib.go"), `package lib\n\nconst Salt = "${salt}"\n`);
    writeFileSync(
      join(src, "main.go"),
      'package main\n\nimport "example.local/app/lib"\n\nfunc main() { println(lib.Salt) }\n',
    );
    let written = "";
    const out = { isTTY: false, write: (text: string) => (written += text) };
    const progress = new BuildProgress("test", "app", 2, { out, env: {} });
    const logFile = join(src, "build.log");
    writeFileSync(logFile, "");
    await goBuild([], ["."], join(src, "app"), { cwd: src, logFile }, progress);
    progress.end();
    expect(existsSync(join(src, "app"))).toBe(true);
    const lines = written.trim().split("\n");
    // The library package is compiled and counted; the main package is compiled with the link.
    expect(lines).toContainEqual(
      expect.stringMatching(/^\[test\] app step 1\/2 compile: done, 1\/1 packages \(100%\), \d+s$/),
    );
    expect(lines.at(-1)).toMatch(/^\[test\] app step 2\/2 link: done, \d+s$/);
  });
});
