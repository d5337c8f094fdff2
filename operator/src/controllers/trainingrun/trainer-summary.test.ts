import { describe, expect, it } from "vitest";
import { parseTrainerSummary } from "./trainer-summary.js";

const digest = "ab".repeat(32);

describe("parseTrainerSummary", () => {
  it("reads a success summary, keeping only finite numeric metrics", () => {
    const line = JSON.stringify({
      status: "succeeded",
      exitCode: 0,
      digest,
      metrics: { rocAuc: 0.87, f2: 0.7, threshold: 0.31, note: "x" },
      gates: { maxRocAuc: true },
    });
    expect(parseTrainerSummary(`${line}\n`)).toEqual({
      status: "succeeded",
      digest,
      metrics: { rocAuc: 0.87, f2: 0.7, threshold: 0.31 },
      failedChecks: [],
      gateFailures: false,
      data: {
        rows: undefined,
        sha256: undefined,
        checksPassed: undefined,
        checksFailed: undefined,
      },
      message: undefined,
    });
  });
  it("reads the search, calibration and worst segment, and a null one as absent", () => {
    const line = JSON.stringify({
      status: "succeeded",
      digest,
      metrics: { brier: 0.1 },
      calibration: "isotonic",
      worstSegment: null,
      search: {
        trials: 3,
        metric: "prAuc",
        cvMean: 0.7,
        cvStd: 0.02,
        best: { max_depth: 3, learning_rate: 0.1 },
      },
    });
    const s = parseTrainerSummary(line);
    if ("error" in s) throw new Error(s.error);
    expect(s.calibration).toBe("isotonic");
    expect(s.worstSegment).toBeUndefined();
    expect(s.search).toEqual({
      trials: 3,
      metric: "prAuc",
      cvMean: 0.7,
      cvStd: 0.02,
      parameters: { max_depth: 3, learning_rate: 0.1 },
    });
    expect(
      "error" in parseTrainerSummary(JSON.stringify({ status: "succeeded", calibration: "magic" })),
    ).toBe(true);
  });
  it("reads the validator's rows, dataset fingerprint and check counts", () => {
    const s = parseTrainerSummary(
      JSON.stringify({
        status: "validated",
        exitCode: 0,
        rows: 10000,
        dataSha256: digest,
        checks: { passed: 59, failed: 0 },
      }),
    );
    if ("error" in s) throw new Error(s.error);
    expect(s.data).toEqual({ rows: 10000, sha256: digest, checksPassed: 59, checksFailed: 0 });
    expect(s.failedChecks).toEqual([]);
  });
  it("rejects impossible check counts instead of reporting them", () => {
    const s = parseTrainerSummary(
      JSON.stringify({ status: "validated", checks: { passed: -1, failed: 0 } }),
    );
    expect("error" in s && s.error).toMatch(/checks\.passed/);
  });
  it("names failed data checks with their column", () => {
    const s = parseTrainerSummary(
      JSON.stringify({
        status: "validationFailed",
        exitCode: 2,
        message: "data validation failed",
        failedChecks: [
          { name: "leakage", column: "Complain", message: "univariate ROC-AUC 0.9986 > 0.95" },
        ],
      }),
    );
    expect("error" in s ? s.error : s.failedChecks).toEqual([
      "leakage[Complain]: univariate ROC-AUC 0.9986 > 0.95",
    ]);
  });
  it("names failed gates with observed value and requirement", () => {
    const s = parseTrainerSummary(
      JSON.stringify({
        status: "gateFailed",
        exitCode: 3,
        failedGates: [{ name: "minRocAuc", observed: 0.81234, op: ">=", threshold: 0.99 }],
      }),
    );
    if ("error" in s) throw new Error(s.error);
    expect(s.failedChecks).toEqual(["minRocAuc: observed 0.8123 (needs >= 0.99)"]);
    expect(s.gateFailures).toBe(true);
  });
  it.each([
    [undefined, /no termination message/],
    ["", /no termination message/],
    ["Traceback (most recent call last)", /not JSON/],
    ['{"digest": 5}', /not a trainer summary/],
  ])("reports %j as unreadable instead of throwing", (text, message) => {
    const s = parseTrainerSummary(text);
    expect("error" in s && s.error).toMatch(message);
  });
});
