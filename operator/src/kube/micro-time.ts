/**
 * Formats a time as a Kubernetes MicroTime (`2026-11-28T04:00:00.123000Z`). The apiserver
 * rejects Lease times with millisecond precision, which is what Date#toISOString() gives.
 */
export function formatMicroTime(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new Error("formatMicroTime: invalid date");
  return `${date.toISOString().slice(0, -1)}000Z`;
}

/** Parses a MicroTime or RFC 3339 time; undefined when absent or unparseable. */
export function parseKubeTime(value: string | Date | undefined | null): Date | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d;
}
