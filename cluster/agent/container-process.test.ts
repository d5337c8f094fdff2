import { describe, expect, it } from "vitest";
import { stagingDir, startScript } from "./container-process.js";

describe("stagingDir", () => {
  it("skips candidates a mount target would hide", () => {
    expect(stagingDir(["/work/repo/.cluster/x", "/run/stage"], ["/work"])).toBe("/run/stage");
    expect(stagingDir(["/work/repo/.cluster/x"], ["/data"])).toBe("/work/repo/.cluster/x");
  });
  it("fails when every candidate is hidden", () => {
    expect(() => stagingDir(["/a/b"], ["/a"])).toThrow(/hidden/);
  });
});

describe("startScript", () => {
  const launch = {
    netns: "n",
    argv: [],
    env: {},
    workingDir: "/data/sub",
    logFile: "",
    scriptFile: "",
    createdMountPoints: "",
    stageCandidates: [],
    mounts: [
      { source: "/src/nested", target: "/data/nested", readOnly: true },
      { source: "/src/it's", target: "/data", readOnly: false },
    ],
  };

  it("stages every source first, then mounts parents before children, read-only where asked", () => {
    const lines = startScript(launch, "/stage", new Set()).split("\n");
    expect(lines).toEqual([
      "#!/bin/sh",
      "set -e",
      "mount --bind '/src/nested' '/stage/0'",
      "mount --bind '/src/it'\\''s' '/stage/1'",
      "mount --bind '/stage/1' '/data'",
      "mkdir -p '/data/nested'",
      "mount --bind '/stage/0' '/data/nested'",
      "mount -o remount,bind,ro '/data/nested'",
      "mkdir -p '/data/sub'",
      "cd '/data/sub'",
      'exec "$@"',
      "",
    ]);
  });
});
