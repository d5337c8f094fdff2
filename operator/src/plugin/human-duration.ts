// Ages the way kubectl prints them (k8s.io/apimachinery's HumanDuration): "45s", "3m12s",
// "47m", "5h3m", "2d4h", "40d", "2y45d".

/** `ms` as a short age. */
export function humanDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 ? `${minutes}m${seconds % 60}s` : `${minutes}m`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 ? `${hours}h${minutes % 60}m` : `${hours}h`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8)
    return hours % 24 ? `${Math.floor(hours / 24)}d${hours % 24}h` : `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const days = Math.floor(hours / 24);
  const years = Math.floor(days / 365);
  if (hours >= 24 * 365 * 8) return `${years}y`;
  return days % 365 ? `${years}y${days % 365}d` : `${years}y`;
}

/** How long ago an RFC 3339 time was, from `now`; "?" when it does not parse. */
export function ago(at: string | undefined, now: Date): string {
  const t = at ? Date.parse(at) : Number.NaN;
  return Number.isNaN(t) ? "?" : `${humanDuration(now.getTime() - t)} ago`;
}
