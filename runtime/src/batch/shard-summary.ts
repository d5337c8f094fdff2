// What a shard reports when it ends (its pod's termination message, which the operator reads
// into the ScoringRun's status) and the reject limit it checks before publishing its part.

/** A shard's counts. */
export interface ShardSummary {
  index: number;
  /** Rows read from the shard's slice of the input. */
  read: number;
  scored: number;
  rejected: number;
  /** Why the shard failed, when it did. */
  error?: string;
  /** For an input prefix: the digest of the objects listed (listingDigest; equal in every shard). */
  inputListing?: string;
  /** What S3 refused, when that is why (the operator's condition reason names it). */
  s3Problem?: "credentials" | "not-found" | "access-denied" | "unavailable";
}

/** Exit codes of `churn-runtime batch`; the operator's pod failure policy keys on them. */
export const BatchExit = {
  ok: 0,
  /** The model, the input or the settings are unusable: retrying cannot help (fail the run). */
  unusable: 2,
  /** More bad rows than the limit: the data is at fault, retrying cannot help (fail the index). */
  tooManyRejects: 3,
} as const;

/** The reject limits of a run. */
export interface RejectLimits {
  maxRows?: number | undefined;
  maxPercent: number;
}

/** Why `summary` breaks the limits, or undefined when it keeps them. */
export function rejectLimitBroken(
  summary: Pick<ShardSummary, "read" | "rejected">,
  limits: RejectLimits,
): string | undefined {
  const { read, rejected } = summary;
  if (limits.maxRows !== undefined && rejected > limits.maxRows) {
    return `${rejected} rows rejected, more than maxRejectedRows ${limits.maxRows}`;
  }
  if (rejected * 100 > limits.maxPercent * read) {
    const pct = read === 0 ? 100 : (rejected * 100) / read;
    return `${rejected} of ${read} rows rejected (${pct.toFixed(2)}%), more than maxRejectedPercent ${limits.maxPercent}`;
  }
  return undefined;
}
