// `npm run cluster -- <command>`: the local Kubernetes for tests and the demo. See README.md.
import { spawnSync } from "node:child_process";
import { cachedBinaries, ensureBinaries } from "./build-binaries.js";
import { clusterStatus, startCluster, stopCluster } from "./cluster.js";
import { clusterPaths } from "./cluster-layout.js";
import { s3Down, s3Status, s3Up } from "./cluster-s3.js";
import { readContainerLog } from "./container-logs.js";

const usage = `usage: npm run cluster -- <command>
  build                         build (or reuse) the cached etcd and Kubernetes binaries
  up [--nodes N] [--no-proxy]   start the cluster (reuses a healthy running one)
  down                          stop it and remove everything it added to the host
  status                        show components and apiserver readiness
  kubectl <args...>             run the cluster's own kubectl against it
  logs <namespace> <pod> <container> [--previous]
                                print a container's log
  s3 up|down|status             the S3 server (SeaweedFS) on :8333, reachable from pods`;

async function build(): Promise<number> {
  const bins = await ensureBinaries();
  for (const [name, path] of Object.entries(bins)) process.stdout.write(`${name}: ${path}\n`);
  return 0;
}

async function up(rest: string[]): Promise<number> {
  const i = rest.indexOf("--nodes");
  const nodes = i >= 0 ? Number(rest[i + 1]) : 1;
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 50) {
    process.stderr.write(`--nodes must be an integer from 1 to 50, got "${rest[i + 1]}"\n`);
    return 2;
  }
  const info = await startCluster({ nodes, serviceProxy: !rest.includes("--no-proxy") });
  process.stdout.write(`export KUBECONFIG=${info.kubeconfig}\n`);
  return 0;
}

async function down(): Promise<number> {
  await stopCluster();
  return 0;
}

async function status(): Promise<number> {
  const s = await clusterStatus();
  process.stdout.write(`${s.lines.join("\n")}\n`);
  return s.running ? 0 : 1;
}

async function kubectl(rest: string[]): Promise<number> {
  const bins = cachedBinaries();
  if (!bins) {
    process.stderr.write("binaries not built yet: run `npm run cluster -- build`\n");
    return 1;
  }
  const r = spawnSync(bins.kubectl, rest, {
    stdio: "inherit",
    env: { ...process.env, KUBECONFIG: clusterPaths().kubeconfig },
  });
  return r.status ?? 1;
}

async function logs(rest: string[]): Promise<number> {
  const [ns, pod, container] = rest;
  if (!ns || !pod || !container) {
    process.stderr.write(`${usage}\n`);
    return 2;
  }
  process.stdout.write(
    readContainerLog(ns, pod, container, { previous: rest.includes("--previous") }),
  );
  return 0;
}

async function s3(rest: string[]): Promise<number> {
  const [sub] = rest;
  if (sub === "up") process.stdout.write(`${await s3Up()}\n`);
  else if (sub === "down") await s3Down();
  else if (sub === "status") {
    const s = s3Status();
    process.stdout.write(`${s.text}\n`);
    return s.running ? 0 : 1;
  } else {
    process.stderr.write(`${usage}\n`);
    return 2;
  }
  return 0;
}

/** The commands, each given the arguments after its name and returning the exit code. */
const commands = new Map<string, (rest: string[]) => Promise<number>>([
  ["build", build],
  ["up", up],
  ["down", down],
  ["status", status],
  ["kubectl", kubectl],
  ["logs", logs],
  ["s3", s3],
]);

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const run = cmd === undefined ? undefined : commands.get(cmd);
  if (!run) {
    process.stderr.write(`${cmd ? `unknown command "${cmd}"\n` : ""}${usage}\n`);
    return 2;
  }
  return run(rest);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`[cluster] ${err.message}\n`);
    process.exit(1);
  },
);
