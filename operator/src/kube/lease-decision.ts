/** The part of a Lease's spec that leader election reads. */
export interface LeaseRecord {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  renewTime?: string;
  acquireTime?: string;
  leaseTransitions?: number;
}

/** What a candidate should do with the lease it just read. */
export type LeaseAction = "acquire" | "renew" | "wait";

/**
 * Decides from an observed lease. Expiry is judged by when THIS process last saw the record
 * change (`observedAtMs`), as client-go does, so clock skew between replicas cannot steal a
 * lease from a live leader.
 */
export function decideLease(
  record: LeaseRecord | undefined,
  identity: string,
  observedAtMs: number,
  nowMs: number,
): LeaseAction {
  if (!record?.holderIdentity) return "acquire";
  if (record.holderIdentity === identity) return "renew";
  const durationMs = (record.leaseDurationSeconds ?? 0) * 1000;
  return observedAtMs + durationMs <= nowMs ? "acquire" : "wait";
}
