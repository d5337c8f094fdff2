import { describe, expect, it } from "vitest";
import { ConfigError, resolveConfig } from "./config.js";

describe("resolveConfig", () => {
  it("uses defaults, then environment variables, then flags", () => {
    const env = { CHURN_MODEL_DIR: "/models/a", CHURN_MAX_BATCH: "50", CHURN_RUNTIME_PORT: "9000" };
    const c = resolveConfig({ port: "9100" }, env);
    expect(c.modelDir).toBe("/models/a");
    expect(c.maxBatch).toBe(50);
    expect(c.port).toBe(9100);
    expect(c.maxExplainRows).toBe(100);
    expect(c.host).toBe("127.0.0.1");
  });
  it("listens on all interfaces inside Kubernetes unless told otherwise", () => {
    expect(resolveConfig({ modelDir: "/m" }, { KUBERNETES_SERVICE_HOST: "10.0.0.1" }).host).toBe(
      "0.0.0.0",
    );
    expect(
      resolveConfig({ modelDir: "/m", host: "::1" }, { KUBERNETES_SERVICE_HOST: "x" }).host,
    ).toBe("::1");
  });
  it("names the flag and variable of every bad setting", () => {
    expect(() =>
      resolveConfig({ maxBatch: "0", expectedDigest: "abc" }, { CHURN_MODEL_DIR: "/m" }),
    ).toThrow(
      /--expected-digest \(CHURN_EXPECTED_DIGEST\).*sha256.*|--max-batch \(CHURN_MAX_BATCH\)/,
    );
    try {
      resolveConfig({}, {});
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toContain("--model-dir (CHURN_MODEL_DIR) is required");
    }
  });
  it("lowercases the expected digest", () => {
    const d = "A".repeat(64);
    expect(resolveConfig({ modelDir: "/m", expectedDigest: d }, {}).expectedDigest).toBe(
      "a".repeat(64),
    );
  });
});
