import { z } from "zod";

const failedCheck = z.union([
  z.string(),
  z.looseObject({
    name: z.string(),
    column: z.string().optional(),
    message: z.string().optional(),
  }),
]);

const failedGate = z.looseObject({
  name: z.string(),
  observed: z.number().nullable().optional(),
  op: z.string().optional(),
  threshold: z.number().optional(),
  segment: z.string().nullable().optional(),
});

const count = z.int().min(0);

// The summary line of the trainer's `train` and `validate` (trainer/src/churn_trainer/cli.py):
// status, exitCode; train: digest, metrics; validate (and data failures): rows, dataSha256,
// checks {passed, failed}; on failure message, failedChecks [{name, column, message}] or
// failedGates [{name, observed, op, threshold}].
const summarySchema = z.looseObject({
  status: z.string(),
  exitCode: z.int().optional(),
  digest: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  metrics: z.record(z.string(), z.unknown()).optional(),
  rows: count.optional(),
  dataSha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  checks: z.looseObject({ passed: count, failed: count }).optional(),
  failedChecks: z.array(failedCheck).optional(),
  failedGates: z.array(failedGate).optional(),
  message: z.string().optional(),
  calibration: z.enum(["none", "sigmoid", "isotonic"]).optional(),
  worstSegment: z
    .looseObject({ name: z.string(), f2: z.number(), gap: z.number() })
    .nullable()
    .optional(),
  search: z
    .looseObject({
      trials: count,
      metric: z.string(),
      cvMean: z.number(),
      cvStd: z.number(),
      best: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])),
    })
    .nullable()
    .optional(),
});

/** What a summary says about the data set and its checks (from `validate`, or a data failure). */
export interface DataFacts {
  rows?: number;
  sha256?: string;
  checksPassed?: number;
  checksFailed?: number;
}

/** The trainer's one-line JSON summary, normalised for the operator. */
export interface TrainerSummary {
  status: string;
  digest?: string;
  metrics: Record<string, number>;
  /** Failed data checks and gates, each as one readable line naming it. */
  failedChecks: string[];
  /** True when the failures are metric gates (not data checks). */
  gateFailures: boolean;
  /** Rows, dataset sha256 and check counts, when the summary has them. */
  data: DataFacts;
  message?: string;
  calibration?: "none" | "sigmoid" | "isotonic";
  /** The declared segment (not small) with the lowest F2, and its gap below the overall F2. */
  worstSegment?: { name: string; f2: number; gap: number };
  /** The hyperparameter search's outcome: trials, CV score and spread, chosen parameters. */
  search?: {
    trials: number;
    metric: string;
    cvMean: number;
    cvStd: number;
    parameters: Record<string, number | string | boolean>;
  };
}

/**
 * Parses the termination message the trainer writes (`--termination-log`). Returns an error
 * string instead of throwing: a garbled message is an observed fact to report, not a crash.
 */
export function parseTrainerSummary(text: string | undefined): TrainerSummary | { error: string } {
  if (!text?.trim()) return { error: "the trainer left no termination message" };
  const line = text.trim().split("\n").at(-1) ?? "";
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return { error: `termination message is not JSON: ${line.slice(0, 200)}` };
  }
  const parsed = summarySchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      error: `termination message is not a trainer summary: ${issue?.path.join(".")} ${issue?.message}`,
    };
  }
  const s = parsed.data;
  const metrics: Record<string, number> = {};
  for (const [k, v] of Object.entries(s.metrics ?? {})) {
    if (typeof v === "number" && Number.isFinite(v)) metrics[k] = v;
  }
  const gates = (s.failedGates ?? []).map(describeGate);
  return {
    status: s.status,
    digest: s.digest,
    metrics,
    failedChecks: [...(s.failedChecks ?? []).map(describeCheck), ...gates],
    gateFailures: gates.length > 0,
    data: {
      rows: s.rows,
      sha256: s.dataSha256,
      checksPassed: s.checks?.passed,
      checksFailed: s.checks?.failed,
    },
    message: s.message,
    calibration: s.calibration,
    worstSegment: s.worstSegment
      ? { name: s.worstSegment.name, f2: s.worstSegment.f2, gap: s.worstSegment.gap }
      : undefined,
    search: s.search
      ? {
          trials: s.search.trials,
          metric: s.search.metric,
          cvMean: s.search.cvMean,
          cvStd: s.search.cvStd,
          parameters: s.search.best,
        }
      : undefined,
  };
}

function describeCheck(c: z.infer<typeof failedCheck>): string {
  if (typeof c === "string") return c;
  const name = c.column ? `${c.name}[${c.column}]` : c.name;
  return c.message ? `${name}: ${c.message}` : name;
}

function describeGate(g: z.infer<typeof failedGate>): string {
  const observed = g.observed === null || g.observed === undefined ? "n/a" : round(g.observed);
  const need = g.op && g.threshold !== undefined ? ` (needs ${g.op} ${g.threshold})` : "";
  const segment = g.segment ? ` in segment ${g.segment}` : "";
  return `${g.name}: observed ${observed}${need}${segment}`;
}

function round(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(4);
}
