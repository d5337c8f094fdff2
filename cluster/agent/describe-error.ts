/**
 * One line for a log: the HTTP status and the apiserver's Status message for client-node
 * errors (whose own message spans headers and body), else the error's first line.
 */
export function describeError(err: unknown): string {
  const e = err as { code?: unknown; body?: unknown; message?: string };
  if (typeof e.code === "number" && typeof e.body === "string") {
    try {
      const status = JSON.parse(e.body) as { message?: string };
      if (status.message) return `HTTP ${e.code}: ${status.message}`;
    } catch {}
    return `HTTP ${e.code}`;
  }
  return String(e.message ?? err).split("\n")[0] ?? String(err);
}
