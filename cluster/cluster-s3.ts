// `npm run cluster -- s3 up|down|status`: the local cluster's long-lived S3 server (SeaweedFS),
// for the demo and for trying S3 data sets and model stores by hand. Tests start their own
// (cluster/s3-server.ts) on free ports, so they never share data or keys with it.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { clusterPaths, network } from "./cluster-layout.js";
import { isRunning, type ManagedProcess, stopProcess } from "./managed-process.js";
import {
  grpcSocketPaths,
  randomCredentials,
  S3_REGION,
  type S3Credentials,
  startS3Server,
  type WeedPorts,
} from "./s3-server.js";

/** Fixed ports: S3 on SeaweedFS's usual 8333, the inner servers out of the common ranges. */
export const CLUSTER_S3_PORTS: WeedPorts = {
  s3: 8333,
  s3Grpc: 23331,
  master: 23332,
  masterGrpc: 23333,
  volume: 23334,
  volumeGrpc: 23335,
  filer: 23336,
  filerGrpc: 23337,
};

/** What `s3 up` records: the process and how to reach and sign in to the server. */
interface ClusterS3State {
  process: ManagedProcess;
  endpoint: string;
  podEndpoint: string;
  region: string;
  credentials: S3Credentials;
}

function s3Dir(): string {
  return join(clusterPaths().dir, "s3");
}

function statePath(): string {
  return join(s3Dir(), "server.json");
}

function readState(): ClusterS3State | undefined {
  if (!existsSync(statePath())) return undefined;
  return JSON.parse(readFileSync(statePath(), "utf8")) as ClusterS3State;
}

/** The key pair, made once per `.cluster/` and kept, so data written earlier stays readable. */
function credentials(): S3Credentials {
  const file = join(s3Dir(), "credentials.json");
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as S3Credentials;
  const c = randomCredentials();
  writeFileSync(file, `${JSON.stringify(c)}\n`, { mode: 0o600 });
  return c;
}

/** How to use it: the endpoints and a Secret for TrainingRun.spec.dataset.s3.credentialsSecret. */
function describe(s: ClusterS3State): string {
  return [
    `S3 endpoint (host): ${s.endpoint}`,
    `S3 endpoint (pods): ${s.podEndpoint}`,
    `region: ${s.region}`,
    `AWS_ACCESS_KEY_ID=${s.credentials.accessKeyId}`,
    `AWS_SECRET_ACCESS_KEY=${s.credentials.secretAccessKey}`,
    "a Secret for dataset.s3.credentialsSecret:",
    `  npm run cluster -- kubectl -n <namespace> create secret generic s3-credentials \\`,
    `    --from-literal=AWS_ACCESS_KEY_ID=${s.credentials.accessKeyId} \\`,
    `    --from-literal=AWS_SECRET_ACCESS_KEY=${s.credentials.secretAccessKey}`,
  ].join("\n");
}

/** Starts the cluster's S3 server unless it runs; prints how to reach it. */
export async function s3Up(): Promise<string> {
  const running = readState();
  if (running && isRunning(running.process)) return describe(running);
  mkdirSync(s3Dir(), { recursive: true });
  const server = await startS3Server({
    dir: s3Dir(),
    credentials: credentials(),
    ports: CLUSTER_S3_PORTS,
  });
  const state: ClusterS3State = {
    process: server.process,
    endpoint: server.endpoint,
    podEndpoint: `http://${network.gatewayIp}:${CLUSTER_S3_PORTS.s3}`,
    region: S3_REGION,
    credentials: server.credentials,
  };
  writeFileSync(statePath(), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  return describe(state);
}

/** Stops it; its data stays in `.cluster/s3/data` for the next `s3 up`. */
export async function s3Down(): Promise<void> {
  const state = readState();
  if (state) await stopProcess(state.process);
  for (const path of grpcSocketPaths(CLUSTER_S3_PORTS)) rmSync(path, { force: true });
  rmSync(statePath(), { force: true });
}

/** Whether it runs, and how to reach it. */
export function s3Status(): { running: boolean; text: string } {
  const state = readState();
  if (!state || !isRunning(state.process)) {
    return { running: false, text: "S3 server: not running (npm run cluster -- s3 up)" };
  }
  return {
    running: true,
    text: `S3 server: running (pid ${state.process.pid})\n${describe(state)}`,
  };
}
