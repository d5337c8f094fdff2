import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BuildProgress, formatDuration, progressLine, type StepState } from "./build-progress.js";

describe("formatDuration", () => {
  it.each([
    [0, "0s"],
    [44_600, "45s"],
    [365_000, "6m05s"],
    [3_725_000, "1h02m"],
  ])("%i ms -> %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe("progressLine", () => {
  const step: StepState = {
    label: "Kubernetes v1.37.2",
    index: 3,
    steps: 3,
    name: "compile",
    unit: "packages",
    done: 0,
    elapsedMs: 0,
    finished: false,
  };

  it.each<[Partial<StepState>, string]>([
    [{}, "Kubernetes v1.37.2 step 3/3 compile: started"],
    [{ elapsedMs: 5000 }, "Kubernetes v1.37.2 step 3/3 compile: 5s"],
    [
      { done: 1234, total: 2691, elapsedMs: 365_000 },
      "Kubernetes v1.37.2 step 3/3 compile: 1234/2691 packages (45%), 6m05s",
    ],
    [{ done: 17, elapsedMs: 12_000 }, "Kubernetes v1.37.2 step 3/3 compile: 17 packages, 12s"],
    [
      { total: 0, elapsedMs: 6000, finished: true },
      "Kubernetes v1.37.2 step 3/3 compile: done, all packages cached, 6s",
    ],
    [
      { done: 2691, total: 2691, elapsedMs: 600_000, finished: true },
      "Kubernetes v1.37.2 step 3/3 compile: done, 2691/2691 packages (100%), 10m00s",
    ],
  ])("%o", (change, line) => {
    expect(progressLine({ ...step, ...change })).toBe(line);
  });
});

describe("BuildProgress", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function run(isTTY: boolean, env: NodeJS.ProcessEnv = {}): string {
    let written = "";
    const out = { isTTY, write: (text: string) => (written += text) };
    const progress = new BuildProgress("cluster", "etcd v3.6.16", 2, { out, env });
    progress.step("download modules", "modules");
    vi.advanceTimersByTime(31_000);
    progress.advance(3);
    progress.step("compile", "packages");
    progress.setTotal(4);
    vi.advanceTimersByTime(30_000);
    progress.advance(4);
    progress.end();
    return written;
  }

  it("in CI prints plain lines: each step's start and end, and one per interval", () => {
    expect(run(false).split("\n")).toEqual([
      "[cluster] etcd v3.6.16 step 1/2 download modules: started",
      "[cluster] etcd v3.6.16 step 1/2 download modules: 30s",
      "[cluster] etcd v3.6.16 step 1/2 download modules: done, 3 modules, 31s",
      "[cluster] etcd v3.6.16 step 2/2 compile: started",
      "[cluster] etcd v3.6.16 step 2/2 compile: 0/4 packages (0%), 0s",
      "[cluster] etcd v3.6.16 step 2/2 compile: 0/4 packages (0%), 30s",
      "[cluster] etcd v3.6.16 step 2/2 compile: done, 4/4 packages (100%), 30s",
      "",
    ]);
  });

  it("on a terminal redraws one line per step in place", () => {
    const written = run(true);
    const lines = written.split("\n");
    expect(lines).toHaveLength(3);
    const clear = "\r\x1b[2K";
    expect(lines[0]?.startsWith(`${clear}[cluster] etcd v3.6.16 step 1/2 download modules`)).toBe(
      true,
    );
    expect(lines[0]?.split("\r").at(-1)).toBe(
      "\x1b[2K[cluster] etcd v3.6.16 step 1/2 download modules: done, 3 modules, 31s",
    );
    expect(lines[1]?.split("\r").at(-1)).toBe(
      "\x1b[2K[cluster] etcd v3.6.16 step 2/2 compile: done, 4/4 packages (100%), 30s",
    );
    expect(lines[2]).toBe("");
  });

  it("prints plain lines on a terminal when CI=true", () => {
    expect(run(true, { CI: "true" })).toBe(run(false));
  });
});
