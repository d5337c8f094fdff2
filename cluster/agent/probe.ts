import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { Socket } from "node:net";
import type { V1Container, V1Probe } from "@kubernetes/client-node";

/** Outcome of one probe attempt; `message` explains a failure (it goes into Events). */
export interface ProbeResult {
  ok: boolean;
  message: string;
}

/** How an exec probe reaches into the container (namespace entry lives with the caller). */
export type ExecRunner = (
  argv: string[],
  timeoutMs: number,
) => Promise<{ exitCode: number; output: string }>;

/** Resolves a probe's port (number or a named container port). */
export function probePort(port: number | string, container: V1Container): number {
  if (typeof port === "number") return port;
  if (/^\d+$/.test(port)) return Number(port);
  const named = container.ports?.find((p) => p.name === port);
  if (!named) throw new Error(`probe refers to port "${port}", which the container does not name`);
  return named.containerPort;
}

function httpProbe(probe: V1Probe, podIp: string, container: V1Container): Promise<ProbeResult> {
  const action = probe.httpGet;
  if (!action) throw new Error("not an httpGet probe");
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  const scheme = (action.scheme ?? "HTTP").toUpperCase();
  const host = action.host || podIp;
  const port = probePort(action.port as number | string, container);
  const headers: Record<string, string> = { "User-Agent": "kube-probe/1.37" };
  for (const h of action.httpHeaders ?? []) headers[h.name] = h.value;
  return new Promise((resolve) => {
    const req = (scheme === "HTTPS" ? httpsRequest : httpRequest)(
      {
        host,
        port,
        path: action.path ?? "/",
        method: "GET",
        headers,
        timeout: timeoutMs,
        rejectUnauthorized: false,
      },
      (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        // The kubelet treats 2xx and 3xx as success.
        resolve({
          ok: code >= 200 && code < 400,
          message: `HTTP probe failed with statuscode: ${code}`,
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("context deadline exceeded")));
    req.on("error", (err) =>
      resolve({
        ok: false,
        message: `Get "${scheme.toLowerCase()}://${host}:${port}${action.path ?? "/"}": ${err.message}`,
      }),
    );
    req.end();
  });
}

function tcpProbe(probe: V1Probe, podIp: string, container: V1Container): Promise<ProbeResult> {
  const action = probe.tcpSocket;
  if (!action) throw new Error("not a tcpSocket probe");
  const host = action.host || podIp;
  const port = probePort(action.port as number | string, container);
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.setTimeout((probe.timeoutSeconds ?? 1) * 1000);
    socket.once("connect", () => {
      socket.destroy();
      resolve({ ok: true, message: "" });
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve({ ok: false, message: `dial tcp ${host}:${port}: i/o timeout` });
    });
    socket.once("error", (err) =>
      resolve({ ok: false, message: `dial tcp ${host}:${port}: ${err.message}` }),
    );
    socket.connect(port, host);
  });
}

/** Runs one attempt of a probe against a container. */
export async function runProbe(
  probe: V1Probe,
  podIp: string,
  container: V1Container,
  exec: ExecRunner,
): Promise<ProbeResult> {
  try {
    if (probe.httpGet) return await httpProbe(probe, podIp, container);
    if (probe.tcpSocket) return await tcpProbe(probe, podIp, container);
    if (probe.exec) {
      const r = await exec(probe.exec.command ?? [], (probe.timeoutSeconds ?? 1) * 1000);
      return {
        ok: r.exitCode === 0,
        message: `command ${JSON.stringify(probe.exec.command)} exited with ${r.exitCode}: ${r.output.trim()}`,
      };
    }
    return { ok: false, message: "probe has no handler the process node supports (grpc?)" };
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
}

/**
 * Tracks consecutive results against a probe's thresholds, as the kubelet's prober does:
 * the verdict flips only after `successThreshold` successes or `failureThreshold` failures.
 */
export class ProbeTracker {
  private successes = 0;
  private failures = 0;
  private verdict: boolean;

  constructor(
    private readonly probe: V1Probe,
    initial: boolean,
  ) {
    this.verdict = initial;
  }

  /** Feeds one result; returns the (possibly updated) verdict. */
  record(ok: boolean): boolean {
    if (ok) {
      this.successes++;
      this.failures = 0;
      if (this.successes >= (this.probe.successThreshold ?? 1)) this.verdict = true;
    } else {
      this.failures++;
      this.successes = 0;
      if (this.failures >= (this.probe.failureThreshold ?? 3)) this.verdict = false;
    }
    return this.verdict;
  }

  /** The failure threshold has been reached (consecutive failures). */
  get failedOut(): boolean {
    return this.failures >= (this.probe.failureThreshold ?? 3);
  }

  /** Current verdict. */
  get ok(): boolean {
    return this.verdict;
  }
}
