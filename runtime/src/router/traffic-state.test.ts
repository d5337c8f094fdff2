// What the router does with each configuration its source reports: apply a valid one, refuse
// an invalid one while routing on by the last good one, and say so in a log line and a metric.
import { describe, expect, it } from "vitest";
import { createLogger } from "../logger.js";
import { IdColumnLearner } from "./id-column-learner.js";
import { RouterMetrics } from "./router-metrics.js";
import { TrafficState } from "./traffic-state.js";

const config = (weight: number) =>
  JSON.stringify({
    model: "bank",
    // Port 9 (discard) on loopback: the id column is never learned, which these tests ignore.
    stable: { digest: "a".repeat(64), url: "http://127.0.0.1:9" },
    canary: { digest: "b".repeat(64), url: "http://127.0.0.1:9", weight, mirrorPercent: 0 },
    stickyHeader: null,
  });

function setup() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger("info", (l) => lines.push(JSON.parse(l)));
  const metrics = new RouterMetrics({ processMetrics: false });
  const learner = new IdColumnLearner(createLogger("silent"));
  const state = new TrafficState(metrics, logger, learner);
  const counter = async (result: string) =>
    (await metrics.configReloads.get()).values.find((v) => v.labels.result === result)?.value ?? 0;
  return { lines, metrics, learner, state, counter };
}

describe("TrafficState", () => {
  it("applies a valid config, publishing its weight", async () => {
    const { state, metrics, learner, lines, counter } = setup();
    try {
      expect(state.ready).toBe(false);
      expect(state.notReadyReason).toBe("no valid traffic configuration yet");
      state.text(config(10), "test");
      expect(state.config?.canary?.weight).toBe(10);
      expect((await metrics.canaryWeight.get()).values[0]?.value).toBe(10);
      expect(await counter("applied")).toBe(1);
      expect(lines.find((l) => l.msg === "traffic config applied")).toMatchObject({
        level: "info",
        weight: 10,
        canary: "b".repeat(64),
      });
    } finally {
      learner.stop();
    }
  });

  it("keeps the last good config when a malformed one arrives, and says so", async () => {
    const { state, metrics, learner, lines, counter } = setup();
    try {
      state.text(config(10), "test");
      state.text(config(150), "test");
      expect(state.config?.canary?.weight).toBe(10);
      expect((await metrics.canaryWeight.get()).values[0]?.value).toBe(10);
      expect(await counter("rejected")).toBe(1);
      expect(state.problem).toBe("traffic.json: canary.weight: must be at most 100");
      const line = lines.find(
        (l) => l.msg === "traffic config rejected; keeping the last good one",
      );
      expect(line).toMatchObject({
        level: "warn",
        error: "traffic.json: canary.weight: must be at most 100",
        keeping: { weight: 10 },
      });
      // Removal is no different: the router routes on.
      state.missing("ConfigMap team-a/bank-traffic was deleted");
      expect(state.config?.canary?.weight).toBe(10);
      expect(await counter("rejected")).toBe(2);
      // The same good text again (a relist) is applied once more after a gap.
      state.text(config(10), "test");
      expect(state.problem).toBe("");
      expect(await counter("applied")).toBe(2);
    } finally {
      learner.stop();
    }
  });

  it("stays not ready, with the reason, while only malformed configs arrived", () => {
    const { state, learner, lines } = setup();
    try {
      state.text("{", "test");
      expect(state.ready).toBe(false);
      expect(state.notReadyReason).toMatch(
        /^no valid traffic configuration yet: traffic\.json is not JSON/,
      );
      expect(
        lines.some((l) => l.msg === "traffic config rejected; not ready until a valid one arrives"),
      ).toBe(true);
    } finally {
      learner.stop();
    }
  });

  it("does not count an unchanged config twice", async () => {
    const { state, learner, counter } = setup();
    try {
      state.text(config(10), "test");
      state.text(config(10), "test");
      expect(await counter("applied")).toBe(1);
    } finally {
      learner.stop();
    }
  });
});
