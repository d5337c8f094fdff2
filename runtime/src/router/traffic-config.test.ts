// The contract between the operator (the writer of traffic.json) and the router (its reader):
// the operator's own output, built by its own code, must parse; anything malformed is refused
// with a message naming the field.
import { describe, expect, it } from "vitest";
import type { ChurnModel } from "../../../operator/src/api/churn-model.js";
import {
  buildTrafficConfigMap,
  TRAFFIC_KEY as OPERATOR_TRAFFIC_KEY,
  trafficConfig,
} from "../../../operator/src/controllers/churnmodel/build-router.js";
import { churnModelFixture } from "../../../operator/test-support/churn-model-fixture.js";
import { parseTrafficConfig, TRAFFIC_KEY, TrafficConfigError } from "./traffic-config.js";

const model = (stickyHeader?: string): ChurnModel =>
  churnModelFixture({ replicas: 2, ...(stickyHeader ? { rollout: { stickyHeader } } : {}) });
const stable = { digest: "a".repeat(64), uri: "pvc://m/a" };
const canary = { digest: "b".repeat(64), uri: "pvc://m/b" };

/** What the router reads: the operator's ConfigMap, as the apiserver hands it over. */
const written = (m: ChurnModel, withCanary: boolean, weight: number, mirror: number) =>
  buildTrafficConfigMap(
    m,
    trafficConfig(m, stable, withCanary ? canary : undefined, weight, mirror),
  ).data?.[OPERATOR_TRAFFIC_KEY] as string;

describe("the operator's traffic config, read by the router", () => {
  it("is found under the same key", () => {
    expect(TRAFFIC_KEY).toBe(OPERATOR_TRAFFIC_KEY);
  });

  it("parses a canary with its weight and mirror share", () => {
    expect(parseTrafficConfig(written(model(), true, 10, 100))).toEqual({
      model: "bank",
      stable: {
        digest: stable.digest,
        url: "http://bank-aaaaaaaaaa.team-a.svc:8080",
        httpTarget: "dns:///bank-aaaaaaaaaa-pods.team-a.svc:8080",
        grpcTarget: "dns:///bank-aaaaaaaaaa-pods.team-a.svc:8081",
      },
      canary: {
        digest: canary.digest,
        url: "http://bank-bbbbbbbbbb.team-a.svc:8080",
        httpTarget: "dns:///bank-bbbbbbbbbb-pods.team-a.svc:8080",
        grpcTarget: "dns:///bank-bbbbbbbbbb-pods.team-a.svc:8081",
        weight: 10,
        mirrorPercent: 100,
      },
      stickyHeader: null,
    });
  });

  it("parses a stable alone, and a sticky header (looked up lower-cased)", () => {
    const c = parseTrafficConfig(written(model("X-Customer-Id"), false, 0, 0));
    expect(c.canary).toBeNull();
    expect(c.stickyHeader).toBe("x-customer-id");
  });

  it("parses every weight and mirror share a rollout can write", () => {
    for (const [weight, mirror] of [
      [0, 0],
      [0, 100],
      [25, 0],
      [100, 0],
      [12.5, 50],
    ] as const) {
      expect(parseTrafficConfig(written(model(), true, weight, mirror)).canary).toMatchObject({
        weight,
        mirrorPercent: mirror,
      });
    }
  });
});

describe("a malformed traffic config", () => {
  const good = JSON.parse(written(model(), true, 10, 0));
  const refusal = (text: string) => {
    try {
      parseTrafficConfig(text);
    } catch (err) {
      expect(err).toBeInstanceOf(TrafficConfigError);
      return (err as Error).message;
    }
    throw new Error(`accepted: ${text}`);
  };

  it("is refused with a message naming each field at fault", () => {
    const text = JSON.stringify({
      ...good,
      stable: { digest: "abc", url: "ftp://x" },
      canary: {
        ...good.canary,
        weight: 150,
        mirrorPercent: -1,
        grpcTarget: "grpc://x",
        httpTarget: "http://x:8080",
      },
    });
    const message = refusal(text);
    expect(message).toContain("traffic.json: ");
    expect(message).toContain("stable.digest: must be a sha256 digest (64 hex characters)");
    expect(message).toContain("stable.url: must be an http(s) URL");
    expect(message).toContain("canary.weight: must be at most 100");
    expect(message).toContain("canary.mirrorPercent: must be at least 0");
    expect(message).toContain("canary.grpcTarget: must be host:port or dns:///host:port");
    expect(message).toContain("canary.httpTarget: must be dns:///host:port");
  });

  it("is refused when it is not JSON, or misses a part", () => {
    expect(refusal('{"model": "bank", ')).toMatch(/^traffic\.json is not JSON: /);
    const { stable: _, ...noStable } = good;
    expect(refusal(JSON.stringify(noStable))).toBe("traffic.json: stable: is required");
    expect(refusal(JSON.stringify({ ...good, stickyHeader: "bad header" }))).toContain(
      "stickyHeader: must be an HTTP header name",
    );
    expect(refusal("[]")).toContain("(the document)");
  });

  it("may carry fields a newer operator adds: they are ignored, not refused", () => {
    const c = parseTrafficConfig(JSON.stringify({ ...good, futureField: { x: 1 } }));
    expect(c.canary?.weight).toBe(10);
    // Within a variant too, as httpTarget reached routers that predate it: they keep the url.
    const { httpTarget: _, ...oldStable } = good.stable;
    const old = parseTrafficConfig(
      JSON.stringify({ ...good, stable: { ...oldStable, futureTarget: "dns:///x:1" } }),
    );
    expect(old.stable).toEqual({ ...oldStable, digest: stable.digest });
  });
});
