import { describe, expect, it } from "vitest";
import { parseOperatorConfig } from "./operator-config.js";

describe("parseOperatorConfig", () => {
  it("uses defaults that bind to loopback and elect a leader", () => {
    const c = parseOperatorConfig([], {});
    expect(c.leaderElect).toBe(true);
    expect(c.metricsBindAddress).toEqual({ host: "127.0.0.1", port: 8080 });
    expect(c.healthProbeBindAddress).toEqual({ host: "127.0.0.1", port: 8081 });
    expect(c.namespace).toBeUndefined();
    expect(c.modelStorePvc).toBe("churn-models");
  });
  it("reads flags in both spellings, flags beating env", () => {
    const c = parseOperatorConfig(
      ["--namespace", "team-a", "--workers=4", "--metrics-bind-address=:0", "--leader-elect=false"],
      { WATCH_NAMESPACE: "other", RUNTIME_IMAGE: "rt:1" },
    );
    expect(c.namespace).toBe("team-a");
    expect(c.workers).toBe(4);
    expect(c.metricsBindAddress).toEqual({ host: "0.0.0.0", port: 0 });
    expect(c.leaderElect).toBe(false);
    expect(c.runtimeImage).toBe("rt:1");
  });
  it.each([
    [["--bogus", "1"], /unknown flag --bogus/],
    [["--workers", "0"], /--workers must be an integer/],
    [["--namespace"], /--namespace needs a value/],
    [["--metrics-bind-address", "nope"], /host:port/],
    [["--image-pull-policy", "Sometimes"], /Always, IfNotPresent or Never/],
    [["--leader-elect", "yes"], /true or false/],
    [["positional"], /unexpected argument/],
  ])("rejects %j with a clear message", (argv, message) => {
    expect(() => parseOperatorConfig(argv, {})).toThrow(message);
  });
  it("keeps the PVC store by default and reads an S3 model store from flags or env", () => {
    expect(parseOperatorConfig([], {}).modelStoreS3).toBeUndefined();
    const c = parseOperatorConfig(
      ["--model-store", "s3://models/churn", "--model-store-secret=store"],
      { MODEL_STORE_ENDPOINT: "http://10.244.0.1:8333", MODEL_STORE_REGION: "eu-west-1" },
    );
    expect(c.modelStoreS3).toEqual({
      uri: "s3://models/churn/",
      access: {
        endpoint: "http://10.244.0.1:8333",
        region: "eu-west-1",
        credentialsSecret: "store",
      },
    });
    expect(parseOperatorConfig(["--model-store=s3://models"], {}).modelStoreS3?.uri).toBe(
      "s3://models/",
    );
  });
  it.each([
    [["--model-store", "/models"], /--model-store must be s3:\/\//],
    [["--model-store", "s3://Bad_Bucket/x/"], /--model-store must be s3:\/\//],
    [["--model-store", "s3://models/a//b/"], /--model-store must be s3:\/\//],
    [["--model-store", "s3://models/", "--model-store-endpoint", "s3:8333"], /http\(s\) URL/],
    [["--model-store-secret", "store"], /--model-store-secret is set but --model-store is not/],
  ])("refuses the S3 model store settings %j", (argv, message) => {
    expect(() => parseOperatorConfig(argv, {})).toThrow(message);
  });
});
