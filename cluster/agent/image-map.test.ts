import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../cluster-layout.js";
import { containerArgv, defaultImageMap, imageKey, loadImageMap } from "./image-map.js";

describe("imageKey", () => {
  it.each([
    ["busybox", "busybox"],
    ["busybox:1.36", "busybox"],
    ["docker.io/library/busybox:1.36", "busybox"],
    ["busybox@sha256:abcd", "busybox"],
    ["ghcr.io/acme/churn-operator/runtime:0.1.0", "ghcr.io/acme/churn-operator/runtime"],
    ["localhost:5000/churn-operator/trainer", "localhost:5000/churn-operator/trainer"],
  ])("%s -> %s", (image, key) => {
    expect(imageKey(image)).toBe(key);
  });
});

describe("containerArgv", () => {
  const image = { entrypoint: ["node", "server.js"], cmd: ["--port", "80"] };

  it("runs ENTRYPOINT + CMD when the container sets neither", () => {
    expect(containerArgv(image, {})).toEqual(["node", "server.js", "--port", "80"]);
  });
  it("replaces CMD with args", () => {
    expect(containerArgv(image, { args: ["--port", "9"] })).toEqual([
      "node",
      "server.js",
      "--port",
      "9",
    ]);
  });
  it("replaces both with command (+ args)", () => {
    expect(containerArgv(image, { command: ["sh", "-c"], args: ["exit 3"] })).toEqual([
      "sh",
      "-c",
      "exit 3",
    ]);
  });
});

describe("loadImageMap", () => {
  it("lets a registration file override and extend the built-in entries", () => {
    const dir = mkdtempSync(join(tmpdir(), "image-map-"));
    const file = join(dir, "images.json");
    writeFileSync(
      file,
      JSON.stringify({
        "busybox:1.36": { cmd: ["bash"] },
        "acme/tool": { entrypoint: ["/bin/true"] },
      }),
    );
    const map = loadImageMap("/repo", file);
    expect(map.busybox).toEqual({ cmd: ["bash"] });
    expect(map["acme/tool"]).toEqual({ entrypoint: ["/bin/true"] });
    expect(map["churn-operator/trainer"]?.entrypoint).toEqual([
      "/repo/.venv/bin/python",
      "-m",
      "churn_trainer",
    ]);
  });

  it("names the file and the problem when an entry is invalid", () => {
    const dir = mkdtempSync(join(tmpdir(), "image-map-"));
    const file = join(dir, "images.json");
    writeFileSync(file, JSON.stringify({ busybox: { command: ["sh"] } }));
    expect(() => loadImageMap("/repo", file)).toThrow(/invalid image map .*images\.json/);
  });
});

describe("defaultImageMap", () => {
  it("runs the project's images from this checkout", () => {
    expect(existsSync(join(repoRoot, "package.json"))).toBe(true);
    const runtime = defaultImageMap(repoRoot)["churn-operator/runtime"];
    expect(runtime?.workingDir).toBe(repoRoot);
    expect(existsSync(runtime?.entrypoint?.[1] ?? "")).toBe(true);
  });
});
