// The test-only fault switch: refused unless explicitly allowed, and each fault does what it
// says to a real server's scoring routes (and nothing to its probes).
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { get, post, startTestServer } from "../../test-support/test-server.js";
import { repoRoot, trainedArtifact } from "../../test-support/trained-artifact.js";
import type { Reference } from "../artifact/artifact.js";
import {
  ALLOW_TEST_FAULTS_ENV,
  parseTestFaults,
  TEST_FAULT_ENV,
  TestFaultError,
} from "./test-fault.js";

const fixture = trainedArtifact();
const reference = JSON.parse(
  readFileSync(join(fixture.modelDir, "reference.json"), "utf8"),
) as Reference;
const rows = reference.rows.slice(0, 40);

/** The value of the one sample of `name` carrying these labels in a Prometheus text page. */
function sample(page: string, name: string, labels: Record<string, string>): number | undefined {
  const line = page
    .split("\n")
    .find(
      (l) =>
        l.startsWith(`${name}{`) &&
        Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)),
    );
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

/** Starts a server with the fault variables set for its start only (they are read then). */
async function faultyServer(fault: string) {
  process.env[TEST_FAULT_ENV] = fault;
  process.env[ALLOW_TEST_FAULTS_ENV] = "true";
  try {
    return await startTestServer(fixture.modelDir);
  } finally {
    delete process.env[TEST_FAULT_ENV];
    delete process.env[ALLOW_TEST_FAULTS_ENV];
  }
}

describe("parseTestFaults", () => {
  const allowed = (spec: string) => ({ [TEST_FAULT_ENV]: spec, [ALLOW_TEST_FAULTS_ENV]: "true" });

  it("reads each fault and their combinations", () => {
    expect(parseTestFaults({})).toBeUndefined();
    expect(parseTestFaults(allowed("error-rate=0.25"))).toEqual({ errorRate: 0.25 });
    expect(parseTestFaults(allowed("latency-ms=300, score-shift=-0.2,error-rate=1"))).toEqual({
      latencyMs: 300,
      scoreShift: -0.2,
      errorRate: 1,
    });
  });

  it("is refused unless CHURN_ALLOW_TEST_FAULTS is exactly true, naming both variables", () => {
    for (const allow of [undefined, "", "1", "yes", "TRUE"]) {
      expect(() =>
        parseTestFaults({ [TEST_FAULT_ENV]: "error-rate=1", [ALLOW_TEST_FAULTS_ENV]: allow }),
      ).toThrow(
        new TestFaultError(
          'CHURN_TEST_FAULT is set ("error-rate=1") but CHURN_ALLOW_TEST_FAULTS is not "true": test faults are refused; unset CHURN_TEST_FAULT, or set CHURN_ALLOW_TEST_FAULTS=true in a test environment',
        ),
      );
    }
  });

  it("names what is wrong with a malformed value", () => {
    const refusal = (spec: string) => {
      try {
        parseTestFaults(allowed(spec));
      } catch (err) {
        return (err as Error).message;
      }
      return "accepted";
    };
    expect(refusal("error-rate=2")).toBe(
      'CHURN_TEST_FAULT: error-rate must be a share from 0 to 1, got "2"',
    );
    expect(refusal("latency-ms=1.5")).toBe(
      'CHURN_TEST_FAULT: latency-ms must be whole milliseconds from 0 to 600000, got "1.5"',
    );
    expect(refusal("score-shift")).toBe(
      'CHURN_TEST_FAULT: score-shift must be a number from -1 to 1, got ""',
    );
    expect(refusal("slow=1")).toBe(
      'CHURN_TEST_FAULT: unknown fault "slow" (known: error-rate, latency-ms, score-shift)',
    );
    expect(refusal("error-rate=0.1,error-rate=0.2")).toBe(
      "CHURN_TEST_FAULT: error-rate is given twice",
    );
  });
});

describe("serve with a fault", () => {
  let clean: Awaited<ReturnType<typeof startTestServer>>;
  beforeAll(async () => {
    clean = await startTestServer(fixture.modelDir);
  });
  afterAll(async () => {
    await clean?.close();
  });

  it("error-rate: exactly that share of scoring requests answer 500, counted like real errors", async () => {
    const srv = await faultyServer("error-rate=0.5");
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) {
        statuses.push(
          (await post(`${srv.url}/v1/score`, { instances: rows.slice(i, i + 1) })).status,
        );
      }
      expect(statuses.filter((s) => s === 500)).toHaveLength(5);
      expect(statuses.filter((s) => s === 200)).toHaveLength(5);
      const failed = await post(`${srv.url}/v1/score`, { instances: rows.slice(0, 1) });
      const other = await post(`${srv.url}/v1/score`, { instances: rows.slice(0, 1) });
      const error = [failed, other].find((r) => r.status === 500);
      expect(error?.body.error.code).toBe("test_fault");
      expect((await get(`${srv.url}/readyz`)).status).toBe(200);
      // Counted under the scoring route, where canary analysis looks for errors.
      const metrics = (await get(`${srv.url}/metrics`)).body as string;
      expect(sample(metrics, "http_requests_total", { route: "/v1/score", code: "500" })).toBe(6);
      expect(sample(metrics, "http_requests_total", { route: "/v1/score", code: "200" })).toBe(6);
    } finally {
      await srv.close();
    }
  });

  it("latency-ms: scoring requests take at least that long, as the server's own histogram shows", async () => {
    const srv = await faultyServer("latency-ms=300");
    try {
      for (let i = 0; i < 3; i++) {
        expect((await post(`${srv.url}/v1/score`, { instances: rows.slice(0, 2) })).status).toBe(
          200,
        );
      }
      const metrics = (await get(`${srv.url}/metrics`)).body as string;
      const bucket = (le: string) =>
        sample(metrics, "http_request_duration_seconds_bucket", {
          le,
          route: "/v1/score",
          code: "200",
        });
      // Every observation is above 0.25 s; all three are counted.
      expect(bucket("0.25")).toBe(0);
      expect(bucket("+Inf")).toBe(3);
    } finally {
      await srv.close();
    }
  });

  it("score-shift: probabilities move by the shift, clamped, and labels follow the threshold", async () => {
    const srv = await faultyServer("score-shift=0.3");
    try {
      const base = await post(`${clean.url}/v1/score`, { instances: rows });
      const shifted = await post(`${srv.url}/v1/score`, { instances: rows });
      expect(shifted.status).toBe(200);
      let flips = 0;
      base.body.predictions.forEach((p: { probability: number; label: boolean }, i: number) => {
        const s = shifted.body.predictions[i];
        expect(s.probability).toBeCloseTo(Math.min(1, p.probability + 0.3), 12);
        expect(s.label).toBe(s.probability >= s.threshold);
        if (s.label !== p.label) flips++;
      });
      expect(flips).toBeGreaterThan(0);
      // The other scoring routes too; the model card is not a score.
      const explained = await post(`${srv.url}/v1/explain`, { instances: rows.slice(0, 1) });
      expect(explained.body.predictions[0].probability).toBeCloseTo(
        Math.min(1, base.body.predictions[0].probability + 0.3),
        12,
      );
      expect((await get(`${srv.url}/v1/model`)).body.digest).toBe(fixture.digest);
    } finally {
      await srv.close();
    }
  });
});

describe("serve refuses a fault that is not allowed", () => {
  it("exits before listening, naming both variables", async () => {
    const proc = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        join(repoRoot, "runtime/src/cli.ts"),
        "serve",
        "--model-dir",
        fixture.modelDir,
        "--port",
        "0",
      ],
      {
        cwd: repoRoot,
        env: { ...process.env, [TEST_FAULT_ENV]: "error-rate=1", [ALLOW_TEST_FAULTS_ENV]: "" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    proc.stderr.on("data", (c: Buffer) => {
      out += c.toString();
    });
    const code = await new Promise<number | null>((resolve) => proc.on("exit", resolve));
    expect(code).toBe(1);
    const lines = out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.some((l) => l.msg === "listening")).toBe(false);
    const error = lines.find((l) => l.level === "error");
    expect(error?.msg).toBe("cannot start");
    expect(String(error?.error)).toContain(
      'CHURN_TEST_FAULT is set ("error-rate=1") but CHURN_ALLOW_TEST_FAULTS is not "true"',
    );
  });
});
