// Which variant answers a request. A sticky key (a header or the customer's id) hashes to one of
// 10,000 buckets; buckets below weight * 100 go to the canary. The hash is salted with the
// canary's digest only, so a customer keeps its variant for the whole rollout (every replica
// and restart agrees) while each new rollout picks a different slice of customers. With one
// threshold, raising the weight only ever moves customers from stable to canary, and lowering
// it only from canary to stable: nobody flips back and forth as a rollout steps up.
import type { TrafficConfig } from "./traffic-config.js";

/** The two versions a router splits traffic between. */
export type Variant = "stable" | "canary";

/** Buckets per 100 %: weights resolve to hundredths of a percent. */
export const BUCKETS = 10_000;

/** The bucket (0..9999) of a sticky key under a salt; the same inputs always give the same bucket. */
export function bucketOf(key: string, salt: string): number {
  // FNV-1a over the UTF-16 code units, then murmur3's finaliser so that keys differing in
  // their last character (sequential customer ids) land far apart.
  let h = 0x811c9dc5;
  for (const s of [salt, "\u0000", key]) {
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) % BUCKETS;
}

/** Whether a bucket falls in a percentage (0-100, hundredths honoured). */
export function inShare(bucket: number, percent: number): boolean {
  return bucket < Math.round(percent * (BUCKETS / 100));
}

/** The variant a bucket is routed to under a configuration. */
export function variantFor(config: TrafficConfig, bucket: number): Variant {
  return config.canary && inShare(bucket, config.canary.weight) ? "canary" : "stable";
}

/** The variant of a sticky key under a configuration. */
export function variantOfKey(config: TrafficConfig, key: string): Variant {
  return config.canary ? variantFor(config, bucketOf(key, config.canary.digest)) : "stable";
}

/**
 * The variant that answers a request under a configuration: by its sticky key's bucket, else by
 * the next keyless bucket. The key is only looked for when the canary has a share (the HTTP and
 * gRPC fronts both route through here).
 */
export function assignVariant(
  config: TrafficConfig,
  keyOf: () => string | undefined,
  keyless: BucketSequence,
): Variant {
  if (!config.canary || config.canary.weight <= 0) return "stable";
  const key = keyOf();
  return variantFor(
    config,
    key === undefined ? keyless.draw() : bucketOf(key, config.canary.digest),
  );
}

/**
 * Buckets for requests without a key: a low-discrepancy walk that visits every bucket once
 * per 10,000 draws (the stride is coprime with 10,000 and close to 10,000 / golden ratio), so
 * any window of requests is split by the weight as evenly as whole requests allow.
 */
export class BucketSequence {
  private static readonly STRIDE = 6181;
  private next: number;

  constructor(start = Math.floor(Math.random() * BUCKETS)) {
    this.next = start % BUCKETS;
  }

  /** The next bucket. */
  draw(): number {
    const b = this.next;
    this.next = (this.next + BucketSequence.STRIDE) % BUCKETS;
    return b;
  }
}
