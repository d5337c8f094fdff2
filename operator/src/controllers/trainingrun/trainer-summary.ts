import { z } from "zod";

const failedCheck = z.union([
  z.string(),
  z.looseObject({
    name: z.string(),
    observed: z.unknown().optional(),
    message: z.string().optional(),
  }),
]);

const summarySchema = z.looseObject({
  status: z.string(),
  digest: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  metrics: z.record(z.string(), z.unknown()).optional(),
  failedChecks: z.array(failedCheck).optional(),
  failed_checks: z.array(failedCheck).optional(),
  message: z.string().optional(),
  error: z.string().optional(),
});

/** The trainer's one-line JSON summary, normalised for the operator. */
export interface TrainerSummary {
  status: string;
  digest?: string;
  metrics: Record<string, number>;
  failedChecks: string[];
  message?: string;
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
    return {
      error: `termination message is not a trainer summary: ${parsed.error.issues[0]?.message}`,
    };
  }
  const s = parsed.data;
  const metrics: Record<string, number> = {};
  for (const [k, v] of Object.entries(s.metrics ?? {})) {
    if (typeof v === "number" && Number.isFinite(v)) metrics[k] = v;
  }
  const checks = s.failedChecks ?? s.failed_checks ?? [];
  return {
    status: s.status,
    digest: s.digest,
    metrics,
    failedChecks: checks.map(describeCheck),
    message: s.message ?? s.error,
  };
}

function describeCheck(c: z.infer<typeof failedCheck>): string {
  if (typeof c === "string") return c;
  if (c.observed !== undefined) return `${c.name} (observed ${JSON.stringify(c.observed)})`;
  return c.message ? `${c.name}: ${c.message}` : c.name;
}
