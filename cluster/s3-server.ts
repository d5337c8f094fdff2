// The local S3-compatible object store: SeaweedFS's `weed server` (master, volume server, filer
// and S3 gateway in one process), for the storage tests and the local cluster. See README.md.
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { network } from "./cluster-layout.js";
import { isRunning, type ManagedProcess, startProcess, stopProcess } from "./managed-process.js";
import { ensureWeed } from "./weed-binary.js";

/** An S3 access key pair, as the AWS SDKs and the credentials Secret name them. */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** The ports one `weed server` listens on (each gRPC port beside its HTTP one). */
export interface WeedPorts {
  s3: number;
  s3Grpc: number;
  master: number;
  masterGrpc: number;
  volume: number;
  volumeGrpc: number;
  filer: number;
  filerGrpc: number;
}

const PORT_NAMES: (keyof WeedPorts)[] = [
  "s3",
  "s3Grpc",
  "master",
  "masterGrpc",
  "volume",
  "volumeGrpc",
  "filer",
  "filerGrpc",
];

export interface S3ServerOptions {
  /** Holds the data (`data/`), the S3 identities file and the log. */
  dir: string;
  /** Default: a fresh random key pair. */
  credentials?: S3Credentials;
  /** Default: free ports picked by the kernel (tests); the local cluster passes fixed ones. */
  ports?: WeedPorts;
  /** Default 0.0.0.0: the host reaches it on 127.0.0.1, pods on the bridge gateway. */
  bindIp?: string;
  /** How long to wait for it to accept requests. Default 60 s. */
  readyTimeoutMs?: number;
}

/** A running server: where to reach it from the host and from pods, and how to stop it. */
export interface S3Server {
  /** S3 endpoint seen from this host, e.g. `http://127.0.0.1:8333`. */
  endpoint: string;
  /** S3 endpoint seen from the local cluster's pods (the bridge gateway address). */
  podEndpoint: string;
  /** The filer's HTTP API on this host (the same namespace: bucket `b` is `/buckets/b`). */
  filerUrl: string;
  credentials: S3Credentials;
  ports: WeedPorts;
  process: ManagedProcess;
  log: string;
  stop(): Promise<void>;
}

/** Any region works with SeaweedFS; clients must still sign with one. */
export const S3_REGION = "us-east-1";

/** A random key pair in AWS's shapes (20-character id, 40-character secret). */
export function randomCredentials(): S3Credentials {
  return {
    accessKeyId: `AK${randomBytes(9).toString("hex").toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString("base64url").slice(0, 40),
  };
}

/** SeaweedFS's S3 identities file: one identity with every action, for `credentials`. */
export function s3IdentitiesConfig(credentials: S3Credentials): string {
  const identity = {
    name: "churn-operator",
    credentials: [{ accessKey: credentials.accessKeyId, secretKey: credentials.secretAccessKey }],
    actions: ["Admin", "Read", "List", "Tagging", "Write"],
  };
  return `${JSON.stringify({ identities: [identity] }, null, 2)}\n`;
}

/** A port nobody listens on now (the kernel's pick on `host`). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** One free port per server role. */
export async function freeWeedPorts(host = "0.0.0.0"): Promise<WeedPorts> {
  const ports: Partial<WeedPorts> = {};
  const taken = new Set<number>();
  for (const name of PORT_NAMES) {
    let p = await freePort(host);
    while (taken.has(p)) p = await freePort(host);
    taken.add(p);
    ports[name] = p;
  }
  return ports as WeedPorts;
}

/**
 * `weed server`'s arguments. Telemetry off (it would call out of the machine), the Iceberg and
 * Lance catalog ports off, 64 MB volumes without preallocation and no volume-count limit (each
 * bucket is a collection that grows its own volumes; the default limit of 8 runs out after one
 * bucket). Components find each other on 127.0.0.1; clients only ever talk to the S3 port.
 */
export function weedServerArgs(dir: string, ports: WeedPorts, bindIp: string): string[] {
  return [
    "-logtostderr",
    "server",
    "-ip=127.0.0.1",
    `-ip.bind=${bindIp}`,
    `-dir=${join(dir, "data")}`,
    "-master.telemetry=false",
    "-master.volumeSizeLimitMB=64",
    `-master.port=${ports.master}`,
    `-master.port.grpc=${ports.masterGrpc}`,
    "-volume.max=0",
    `-volume.port=${ports.volume}`,
    `-volume.port.grpc=${ports.volumeGrpc}`,
    "-filer",
    `-filer.port=${ports.filer}`,
    `-filer.port.grpc=${ports.filerGrpc}`,
    `-filer.localSocket=${join(dir, "filer.sock")}`,
    "-s3",
    `-s3.port=${ports.s3}`,
    `-s3.port.grpc=${ports.s3Grpc}`,
    "-s3.port.iceberg=0",
    "-s3.port.lance=0",
    `-s3.localSocket=${join(dir, "s3.sock")}`,
    `-s3.config=${join(dir, "s3-identities.json")}`,
  ];
}

/**
 * The Unix sockets `weed server` creates for same-host gRPC: fixed paths in /tmp (not under
 * `-dir`), left behind when it stops, so the stop removes them.
 */
export function grpcSocketPaths(ports: WeedPorts): string[] {
  const grpc: [string, number][] = [
    ["master", ports.masterGrpc],
    ["volume", ports.volumeGrpc],
    ["filer", ports.filerGrpc],
    ["s3", ports.s3Grpc],
  ];
  return grpc.map(([name, port]) => `/tmp/seaweedfs-${name}-grpc-${port}.sock`);
}

async function answers(url: string, ok: (status: number) => boolean): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return ok(res.status);
  } catch {
    return false;
  }
}

/**
 * Ready when the S3 gateway answers its health probe and a volume server has joined the
 * master (before that, the first write fails with "no writable volumes").
 */
async function ready(ports: WeedPorts): Promise<boolean> {
  const host = "http://127.0.0.1";
  if (!(await answers(`${host}:${ports.s3}/status`, (s) => s === 200))) return false;
  try {
    const res = await fetch(`${host}:${ports.master}/dir/status`, {
      signal: AbortSignal.timeout(2000),
    });
    const body = JSON.stringify(await res.json());
    return body.includes(`:${ports.volume}`);
  } catch {
    return false;
  }
}

/** Starts `weed server` with S3 (building weed first if the cache lacks it); waits until ready. */
export async function startS3Server(opts: S3ServerOptions): Promise<S3Server> {
  const weed = await ensureWeed();
  const credentials = opts.credentials ?? randomCredentials();
  const bindIp = opts.bindIp ?? "0.0.0.0";
  const ports = opts.ports ?? (await freeWeedPorts(bindIp));
  mkdirSync(join(opts.dir, "data"), { recursive: true });
  writeFileSync(join(opts.dir, "s3-identities.json"), s3IdentitiesConfig(credentials), {
    mode: 0o600,
  });
  const log = join(opts.dir, "weed.log");
  const proc = startProcess("weed", weed, weedServerArgs(opts.dir, ports, bindIp), log);
  const stop = async () => {
    await stopProcess(proc);
    for (const path of grpcSocketPaths(ports)) rmSync(path, { force: true });
  };
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  while (!(await ready(ports))) {
    if (!isRunning(proc)) throw new Error(`weed server exited during start-up; see ${log}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`weed server did not become ready on port ${ports.s3}; see ${log}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    endpoint: `http://127.0.0.1:${ports.s3}`,
    podEndpoint: `http://${network.gatewayIp}:${ports.s3}`,
    filerUrl: `http://127.0.0.1:${ports.filer}`,
    credentials,
    ports,
    process: proc,
    log,
    stop,
  };
}

/**
 * Writes an object through the filer's HTTP API (bucket `b` is the folder `/buckets/b`; the
 * bucket is created on the way): how tests lay down input data without an S3 client, which the
 * host's Node code does not have. Readers still go through S3 and its credentials.
 */
export async function putObjectViaFiler(
  server: Pick<S3Server, "filerUrl">,
  bucket: string,
  key: string,
  body: Uint8Array | string,
): Promise<void> {
  const url = `${server.filerUrl}/buckets/${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`;
  const form = new FormData();
  form.append("file", new Blob([body]), key.split("/").pop() ?? "object");
  const res = await fetch(url, { method: "POST", body: form });
  if (!res.ok) throw new Error(`filer PUT ${url}: HTTP ${res.status} ${await res.text()}`);
}

/**
 * `npx tsx cluster/s3-server.ts --dir DIR`: runs a server in the foreground for another
 * program's tests (the trainer's pytest): prints one JSON line ({endpoint, podEndpoint,
 * accessKeyId, secretAccessKey, region, filerUrl, pid}) once ready, and stops it on SIGTERM,
 * SIGINT or when its standard input closes.
 */
async function serveForeground(argv: string[]): Promise<void> {
  const i = argv.indexOf("--dir");
  const dir = i >= 0 ? argv[i + 1] : undefined;
  if (!dir) throw new Error("usage: s3-server.ts --dir DIR");
  const server = await startS3Server({ dir });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await server.stop();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.stdin.on("end", stop);
  process.stdin.resume();
  const { endpoint, podEndpoint, filerUrl, credentials } = server;
  const info = { endpoint, podEndpoint, filerUrl, region: S3_REGION, pid: server.process.pid };
  process.stdout.write(`${JSON.stringify({ ...info, ...credentials })}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  serveForeground(process.argv.slice(2)).catch((err: Error) => {
    process.stderr.write(`[s3] ${err.message}\n`);
    process.exit(1);
  });
}
