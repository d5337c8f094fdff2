// A fault switch for rollback tests: makes a serving runtime fail the way a bad canary would,
// on its scoring routes only, and only when the environment says both what to break and that
// breaking is allowed:
//   CHURN_TEST_FAULT="error-rate=R,latency-ms=N,score-shift=X"   (any of them)
//   CHURN_ALLOW_TEST_FAULTS=true
// error-rate: that share of scoring requests answers 500 (exactly: every request whose running
// count crosses the next multiple of 1/R; the request is handled, then its answer replaced). latency-ms: scoring requests wait N ms first.
// score-shift: X is added to every probability (clamped to [0, 1]) and each label recomputed at
// its threshold; callers and the router's mirror comparison see the shift, the pod's own
// probability histogram does not (it is recorded before the answer is shifted).
// A fault named without the permission refuses to start: a leftover variable must never reach
// a production pod silently.
import type { Context, Middleware, Next } from "koa";
import type { Logger } from "../logger.js";

/** The variable naming the faults. */
export const TEST_FAULT_ENV = "CHURN_TEST_FAULT";
/** The variable that must be "true" for faults to be honoured. */
export const ALLOW_TEST_FAULTS_ENV = "CHURN_ALLOW_TEST_FAULTS";

/** The faults in force. */
export interface TestFaults {
  errorRate?: number;
  latencyMs?: number;
  scoreShift?: number;
}

/** CHURN_TEST_FAULT is refused (not allowed, or malformed); the message names the variables. */
export class TestFaultError extends Error {
  override readonly name = "TestFaultError";
}

const SCORING = /^\/v1\/(score|explain|customers\/[^/]+\/score)$|^\/v2\/models\/.+\/infer$/;

const FAULTS: Record<
  string,
  { key: keyof TestFaults; check: (v: number) => boolean; rule: string }
> = {
  "error-rate": { key: "errorRate", check: (v) => v >= 0 && v <= 1, rule: "a share from 0 to 1" },
  "latency-ms": {
    key: "latencyMs",
    check: (v) => Number.isInteger(v) && v >= 0 && v <= 600_000,
    rule: "whole milliseconds from 0 to 600000",
  },
  "score-shift": {
    key: "scoreShift",
    check: (v) => v >= -1 && v <= 1,
    rule: "a number from -1 to 1",
  },
};

/** Why one `name=value` part is refused, or undefined when it is a valid, new fault. */
function faultProblem(
  fault: (typeof FAULTS)[string] | undefined,
  name: string,
  part: string,
  n: number,
  extra: boolean,
  faults: TestFaults,
): string | undefined {
  if (!fault)
    return `unknown fault ${JSON.stringify(name)} (known: ${Object.keys(FAULTS).join(", ")})`;
  if (extra || !Number.isFinite(n) || !fault.check(n)) {
    return `${name} must be ${fault.rule}, got ${JSON.stringify(part.slice(name.length + 1))}`;
  }
  return faults[fault.key] !== undefined ? `${name} is given twice` : undefined;
}

/** Reads the faults from the environment; undefined when none is set. Throws TestFaultError. */
export function parseTestFaults(env: NodeJS.ProcessEnv): TestFaults | undefined {
  const spec = env[TEST_FAULT_ENV]?.trim();
  if (!spec) return undefined;
  if (env[ALLOW_TEST_FAULTS_ENV] !== "true") {
    throw new TestFaultError(
      `${TEST_FAULT_ENV} is set (${JSON.stringify(spec)}) but ${ALLOW_TEST_FAULTS_ENV} is not "true": test faults are refused; unset ${TEST_FAULT_ENV}, or set ${ALLOW_TEST_FAULTS_ENV}=true in a test environment`,
    );
  }
  const faults: TestFaults = {};
  for (const part of spec.split(",")) {
    const [name = "", value, ...extra] = part.split("=").map((s) => s.trim());
    const fault = FAULTS[name];
    const n = value === undefined || value === "" ? Number.NaN : Number(value);
    const problem = faultProblem(fault, name, part, n, extra.length > 0, faults);
    if (problem || !fault) throw new TestFaultError(`${TEST_FAULT_ENV}: ${problem}`);
    faults[fault.key] = n;
  }
  return faults;
}

/**
 * Koa middleware applying the environment's faults to scoring requests; passes everything
 * through when none is set. Throws TestFaultError (at app build time) when refused.
 */
export function testFaults(env: NodeJS.ProcessEnv, logger: Logger): Middleware {
  const faults = parseTestFaults(env);
  if (!faults) return (_ctx: Context, next: Next) => next();
  logger.warn("TEST FAULTS ENABLED: scoring requests are deliberately degraded", {
    [TEST_FAULT_ENV]: env[TEST_FAULT_ENV],
    ...faults,
  });
  let seen = 0;
  return async (ctx: Context, next: Next) => {
    if (!SCORING.test(ctx.path)) return next();
    if (faults.latencyMs) await new Promise((resolve) => setTimeout(resolve, faults.latencyMs));
    // Decided before, applied after the handler: the route has matched by then, so the 500 is
    // counted under its route template like a real failure (analysis reads scoring routes).
    let fail = false;
    if (faults.errorRate) {
      seen++;
      // Request n fails when floor(n * R) steps up: exactly R of every 1/R requests.
      fail = Math.floor(seen * faults.errorRate) > Math.floor((seen - 1) * faults.errorRate);
    }
    await next();
    if (fail) {
      ctx.status = 500;
      ctx.body = {
        error: { code: "test_fault", message: `injected by ${TEST_FAULT_ENV} (error-rate)` },
        requestId: ctx.state.requestId,
      };
    } else if (faults.scoreShift && ctx.status === 200) {
      shiftScores(ctx.body, faults.scoreShift);
    }
  };
}

type Scored = { probability?: unknown; label?: unknown; threshold?: unknown };

/** Shifts the probabilities of a /v1 answer in place and recomputes its labels. */
function shiftScores(body: unknown, shift: number): void {
  const { predictions, prediction } = (body ?? {}) as {
    predictions?: unknown;
    prediction?: unknown;
  };
  const rows = Array.isArray(predictions) ? predictions : prediction ? [prediction] : [];
  for (const p of rows as Scored[]) {
    if (typeof p?.probability !== "number") continue;
    const probability = Math.min(1, Math.max(0, p.probability + shift));
    p.probability = probability;
    if (typeof p.threshold === "number") p.label = probability >= p.threshold;
  }
}
