// Which slice of the input a shard owns. Both splits are exact partitions: every row (or byte)
// belongs to exactly one shard, whatever the count, so shards never duplicate or miss a row.

/** A half-open range [start, end). */
export interface Range {
  start: number;
  end: number;
}

/** Shard `index` of `shards` over `total` items: contiguous, sizes differing by at most one. */
export function shardRange(total: number, shards: number, index: number): Range {
  if (!Number.isInteger(shards) || shards < 1)
    throw new RangeError(`shards must be >= 1, got ${shards}`);
  if (!Number.isInteger(index) || index < 0 || index >= shards) {
    throw new RangeError(`shard index ${index} is outside 0..${shards - 1}`);
  }
  return {
    start: Math.floor((index * total) / shards),
    end: Math.floor(((index + 1) * total) / shards),
  };
}
