/** An error answer from the Kubernetes API, carrying the HTTP code and the Status reason. */
export class KubeApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly reason: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "KubeApiError";
  }

  /** True for 404 NotFound. */
  get notFound(): boolean {
    return this.statusCode === 404;
  }

  /** True for 409 Conflict (stale resourceVersion, or AlreadyExists on create). */
  get conflict(): boolean {
    return this.statusCode === 409;
  }

  /** True for 410 Gone: a watch or list resourceVersion too old to serve. */
  get gone(): boolean {
    return this.statusCode === 410;
  }

  /** True when a retry can succeed without anything changing (throttling, server trouble). */
  get transient(): boolean {
    return this.statusCode === 429 || this.statusCode >= 500 || this.statusCode === 0;
  }
}

/** True when `err` is a KubeApiError with the given HTTP status code. */
export function isKubeStatus(err: unknown, statusCode: number): boolean {
  return err instanceof KubeApiError && err.statusCode === statusCode;
}
