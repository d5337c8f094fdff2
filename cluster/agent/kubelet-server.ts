import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import { join } from "node:path";

/** TLS material and addresses of the agent's kubelet endpoint. */
export interface KubeletServerOptions {
  host: string;
  port: number;
  cert: string;
  key: string;
  /** CA that signed the apiserver's kubelet client certificate. */
  clientCa: string;
  podsDir: string;
}

/** The log file of a container attempt (`previous`: the one before the newest). */
export function containerLogFile(
  podsDir: string,
  namespace: string,
  pod: string,
  container: string,
  previous: boolean,
): string | null {
  if (!existsSync(podsDir)) return null;
  const dirs = readdirSync(podsDir)
    .filter((d) => d.startsWith(`${namespace}_${pod}_`))
    .map((d) => join(podsDir, d))
    .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);
  const dir = dirs.at(-1);
  if (!dir) return null;
  const logs = join(dir, "logs", container);
  if (!existsSync(logs)) return null;
  const attempts = readdirSync(logs)
    .map((f) => Number(f.replace(/\.log$/, "")))
    .filter(Number.isInteger)
    .sort((a, b) => a - b);
  const n = attempts.at(previous ? -2 : -1);
  return n === undefined ? null : join(logs, `${n}.log`);
}

/** The last `n` lines of a text. */
function tail(text: string, n: number): string {
  const lines = text.split("\n");
  const trailing = lines.at(-1) === "" ? lines.pop() : undefined;
  return lines.slice(-n).join("\n") + (trailing === "" ? "\n" : "");
}

/** The log text a non-follow request asks for: the last `tailLines`, at most `limitBytes`. */
function selectLogText(file: string, params: URLSearchParams): string {
  const tailLines = Number(params.get("tailLines") ?? Number.NaN);
  const limit = Number(params.get("limitBytes") ?? Number.NaN);
  let text = readFileSync(file, "utf8");
  if (Number.isInteger(tailLines) && tailLines >= 0) text = tail(text, tailLines);
  if (Number.isInteger(limit) && limit > 0) text = text.slice(0, limit);
  return text;
}

/** Sends `text`, then streams what is appended to `file` until the client goes away. */
function followLog(req: IncomingMessage, res: ServerResponse, file: string, text: string): void {
  res.write(text);
  let offset = statSync(file).size;
  const timer = setInterval(() => {
    const size = statSync(file).size;
    if (size <= offset) return;
    createReadStream(file, { start: offset, end: size - 1 }).on("data", (d) => res.write(d));
    offset = size;
  }, 500);
  req.on("close", () => clearInterval(timer));
}

/** Answers `GET /containerLogs/<ns>/<pod>/<container>` from the pod's log files. */
function serveContainerLogs(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  podsDir: string,
  [ns, pod, container]: [string, string, string],
): void {
  const previous = url.searchParams.get("previous") === "true";
  const file = containerLogFile(podsDir, ns, pod, container, previous);
  if (!file) {
    res.statusCode = 404;
    res.end(`no logs for container "${container}" in pod ${ns}/${pod}\n`);
    return;
  }
  res.setHeader("Content-Type", "text/plain");
  const text = selectLogText(file, url.searchParams);
  if (url.searchParams.get("follow") !== "true") {
    res.end(text);
    return;
  }
  followLog(req, res, file, text);
}

/** Routes one request: health, container logs, or 501 for the rest of the kubelet API. */
function handleKubeletRequest(req: IncomingMessage, res: ServerResponse, podsDir: string): void {
  const url = new URL(req.url ?? "/", "https://kubelet");
  if (url.pathname === "/healthz") {
    res.end("ok");
    return;
  }
  const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
  if (!m || req.method !== "GET") {
    res.statusCode = 501;
    res.end(`the process node does not implement ${req.method} ${url.pathname}\n`);
    return;
  }
  const [, ns, pod, container] = m.map(decodeURIComponent) as [string, string, string, string];
  serveContainerLogs(req, res, url, podsDir, [ns, pod, container]);
}

/**
 * The slice of the kubelet API the apiserver proxies `kubectl logs` to:
 * `GET /containerLogs/<namespace>/<pod>/<container>` with `previous`, `tailLines`,
 * `limitBytes` and `follow`. Only clients with a certificate from the cluster CA (the
 * apiserver) get in. Exec, attach and port-forward answer 501.
 */
export function startKubeletServer(opts: KubeletServerOptions): Promise<Server> {
  const server = createServer(
    {
      cert: readFileSync(opts.cert),
      key: readFileSync(opts.key),
      ca: readFileSync(opts.clientCa),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => handleKubeletRequest(req, res, opts.podsDir),
  );
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => resolve(server));
  });
}
