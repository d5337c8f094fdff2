import { describe, expect, it } from "vitest";
import { type ReconcileStep, runSteps, Step } from "./reconcile-steps.js";

const step = (name: string, result = Step.continue): ReconcileStep<string[]> => ({
  name,
  run: async (log) => {
    log.push(name);
    return result;
  },
});

describe("runSteps", () => {
  it("runs every step when all continue", async () => {
    const log: string[] = [];
    expect(await runSteps([step("a"), step("b")], log)).toEqual({});
    expect(log).toEqual(["a", "b"]);
  });
  it("ends the pass at the first step that stops or requeues", async () => {
    const log: string[] = [];
    expect(await runSteps([step("a"), step("b", Step.requeue(500)), step("c")], log)).toEqual({
      stoppedAt: "b",
      requeueAfterMs: 500,
    });
    expect(log).toEqual(["a", "b"]);
    expect(await runSteps([step("x", Step.stop), step("y")], [])).toEqual({ stoppedAt: "x" });
  });
  it("propagates a step's error", async () => {
    const bad: ReconcileStep<string[]> = {
      name: "bad",
      run: async () => Promise.reject(new Error("boom")),
    };
    await expect(runSteps([bad, step("after")], [])).rejects.toThrow("boom");
  });
});
