// Types of numeric-options.mjs (plain Node, for bench/router), for the TypeScript benchmarks.
/** Reads `--name N` for each of `defaults` and returns the numbers; --help prints `usage`. */
export function numericOptions<K extends string>(
  usage: string,
  defaults: Record<K, number>,
): Record<K, number>;
