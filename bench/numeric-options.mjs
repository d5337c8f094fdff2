// A benchmark's command line: numeric options with defaults, and --help printing its usage.
import { parseArgs } from "node:util";

/**
 * Reads `--name N` for each of `defaults` (strict: anything else is an error) and returns the
 * numbers; with --help prints `usage` and exits 0.
 * @template {string} K
 * @param {string} usage
 * @param {Record<K, number>} defaults
 * @returns {Record<K, number>}
 */
export function numericOptions(usage, defaults) {
  const options = Object.fromEntries(
    Object.entries(defaults).map(([name, value]) => [
      name,
      { type: "string", default: String(value) },
    ]),
  );
  const { values } = parseArgs({
    options: { ...options, help: { type: "boolean", default: false } },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  return /** @type {Record<K, number>} */ (
    Object.fromEntries(Object.keys(defaults).map((name) => [name, Number(values[name])]))
  );
}
