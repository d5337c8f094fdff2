import { createHash } from "node:crypto";

/**
 * A deterministic child object name `<parent>-<suffix>` that fits `max` characters (63 for
 * anything used as a label value or DNS label); long parents are cut and get a short hash so
 * distinct parents never collide. Deterministic names are what make re-running a pass safe.
 */
export function childName(parent: string, suffix: string, max = 63): string {
  const full = `${parent}-${suffix}`;
  if (full.length <= max) return full;
  const hash = createHash("sha256").update(parent).digest("hex").slice(0, 8);
  const room = max - suffix.length - hash.length - 2;
  return `${parent.slice(0, room).replace(/[-.]+$/, "")}-${hash}-${suffix}`;
}
