import { execFileSync, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { createConnection } from "node:net";
import { join } from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { explain, preflight } from "../scripts/preflight.mjs";
import type { AgentConfig } from "./agent/agent-config.js";
import { deleteBridge, ensureBridge, ip, listNetns, netnsPids } from "./agent/pod-network.js";
import { type ClusterBinaries, cachedBinaries, ensureBinaries } from "./build-binaries.js";
import { installClusterAddons } from "./cluster-addons.js";
import {
  type ClusterPaths,
  clusterPaths,
  network,
  nodeName,
  nodePodCidr,
  repoRoot,
} from "./cluster-layout.js";
import {
  apiserverUrl,
  type ControlPlaneCredentials,
  createCredentials,
  get,
  nodeKubeconfig,
  startApiserver,
  startControllerManager,
  startEtcd,
  startKubeProxy,
  startScheduler,
} from "./control-plane.js";
import { isRunning, type ManagedProcess, startProcess, stopProcess } from "./managed-process.js";
import { KUBERNETES_VERSION } from "./versions.js";

/** What `cluster.ts` remembers between `up` and `down` (`.cluster/state.json`). */
interface ClusterState {
  startedAt: string;
  processes: ManagedProcess[];
  nodes: string[];
  /** Who started it: a test run stops its own cluster; one started by hand stays up. */
  owner: ClusterOwner;
  /** Value of net.ipv4.ip_forward before kube-proxy needed it on; restored by `down`. */
  ipForwardBefore?: string;
}

/** "manual": `npm run cluster -- up` or the API; "suite": the integration suite's setup. */
export type ClusterOwner = "manual" | "suite";

/** Options for {@link startCluster}. */
export interface StartClusterOptions {
  /** Recorded in the state file; a manual owner takes over a reused cluster (default manual). */
  owner?: ClusterOwner;
  /** How many process nodes to register (default 1). */
  nodes?: number;
  /** Run kube-proxy so ClusterIP Services work (default true). */
  serviceProxy?: boolean;
  /** Progress messages (default: stderr). */
  log?: (msg: string) => void;
}

/** A running local cluster. */
export interface ClusterInfo {
  kubeconfig: string;
  /** True when this call started it, false when an already running cluster was reused. */
  started: boolean;
  nodes: string[];
  readyInMs: number;
}

const defaultLog = (msg: string) => process.stderr.write(`[cluster] ${msg}\n`);

function readState(file: string): ClusterState | null {
  if (!existsSync(file)) return null;
  const state = JSON.parse(readFileSync(file, "utf8")) as ClusterState;
  // State files from before owners were recorded were all written by test runs.
  state.owner ??= "suite";
  return state;
}

function writeState(file: string, state: ClusterState): void {
  writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`);
}

/** Polls `check` until it returns true; fails naming what was awaited and where to look. */
async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  procs: ManagedProcess[] = [],
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    for (const p of procs) {
      if (!isRunning(p))
        throw new Error(`${p.name} exited while waiting for ${what}; see ${p.log}`);
    }
    try {
      if (await check()) return;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const logs = procs.map((p) => p.log).join(", ");
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (${last})` : ""}${logs ? `; see ${logs}` : ""}`,
  );
}

/**
 * The machine checks every command that starts the cluster runs first (the set-up's preflight:
 * root, tools, kernel features, and disk, memory and Go when the binaries are not built yet),
 * so a missing piece stops `up` at once with the command that fixes it.
 */
function assertPrerequisites(serviceProxy: boolean): void {
  const report = preflight({
    cluster: true,
    serviceProxy,
    goBuilds: ["etcd", "k8s"],
    rerun: "npm run cluster -- up",
  });
  if (report.problems.length) throw new Error(explain(report).join("\n"));
}

/** True when something accepts TCP connections on 127.0.0.1:`port`. */
function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.setTimeout(1000);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Who owns the running cluster, or null when none is recorded. */
export function clusterOwner(): ClusterOwner | null {
  return readState(clusterPaths().state)?.owner ?? null;
}

/** True when the recorded cluster's processes all run and the apiserver answers /readyz. */
export async function clusterHealthy(): Promise<boolean> {
  const paths = clusterPaths();
  const state = readState(paths.state);
  if (!state?.processes.every(isRunning)) return false;
  try {
    const r = await get(`${apiserverUrl}/readyz`, {
      ca: join(paths.pki, "ca.crt"),
      client: { cert: join(paths.pki, "admin.crt"), key: join(paths.pki, "admin.key") },
    });
    return r.status === 200;
  } catch {
    return false;
  }
}

/** Makes a manual start the owner of the reused, healthy cluster and describes it. */
function reuseRunningCluster(
  paths: ClusterPaths,
  owner: ClusterOwner,
  log: (msg: string) => void,
): ClusterInfo {
  const state = readState(paths.state);
  if (state && owner === "manual" && state.owner !== "manual") {
    state.owner = "manual";
    writeState(paths.state, state);
  }
  log(`reusing the running cluster (kubeconfig ${paths.kubeconfig})`);
  return {
    kubeconfig: paths.kubeconfig,
    started: false,
    nodes: state?.nodes ?? [],
    readyInMs: 0,
  };
}

/** Refuses to start over someone else's apiserver; stops an unhealthy previous cluster of ours. */
async function clearPreviousCluster(paths: ClusterPaths, log: (msg: string) => void) {
  if (!existsSync(paths.state) && (await portInUse(network.apiserverPort))) {
    throw new Error(
      `port ${network.apiserverPort} is in use but ${paths.state} records no cluster: another checkout's cluster (or another program) is running; stop it first`,
    );
  }
  if (existsSync(paths.state) || listNetns().some((n) => n.startsWith(network.netnsPrefix))) {
    log("cleaning up a previous cluster that is not healthy");
    await stopCluster({ log });
  }
}

/** Empties the directories a previous cluster may have left data in. */
function resetClusterDirs(paths: ClusterPaths): void {
  for (const dir of [paths.etcdData, paths.pods, paths.pki, paths.logs, paths.volumes]) {
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(paths.logs, { recursive: true });
  mkdirSync(paths.pods, { recursive: true });
}

/** Everything the start sequence hands from one component to the next. */
interface ClusterBoot {
  bins: ClusterBinaries;
  paths: ClusterPaths;
  creds: ControlPlaneCredentials;
  state: ClusterState;
  log: (msg: string) => void;
  /** Records a started process in the state file, so `down` stops it even after a crash. */
  track: (p: ManagedProcess) => ManagedProcess;
}

/** Starts etcd and the apiserver and returns an admin client config once it is ready. */
async function startApiserverAndEtcd(boot: ClusterBoot, t0: number) {
  const { bins, paths, creds, track, log } = boot;
  const etcd = track(startEtcd(bins, paths));
  await waitUntil(
    "etcd health",
    async () => (await get(`http://127.0.0.1:${network.etcdClientPort}/health`)).status === 200,
    30_000,
    [etcd],
  );
  const apiserver = track(startApiserver(bins, paths, creds));
  const adminTls = { ca: creds.pki.ca.cert, client: creds.admin };
  await waitUntil(
    "kube-apiserver /readyz",
    async () => (await get(`${apiserverUrl}/readyz`, adminTls)).status === 200,
    90_000,
    [etcd, apiserver],
  );
  log(`apiserver ready after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const kc = new KubeConfig();
  kc.loadFromFile(paths.kubeconfig);
  return { kc, apiserver };
}

/** The node agent's configuration for the given process nodes. */
function agentConfigFor(
  paths: ClusterPaths,
  creds: ControlPlaneCredentials,
  nodes: AgentConfig["nodes"],
  serviceProxy: boolean,
): AgentConfig {
  return {
    repoRoot,
    podsDir: paths.pods,
    imagesFile: paths.images,
    createdMountPoints: paths.createdMountPoints,
    kubernetesVersion: KUBERNETES_VERSION,
    bridge: network.bridge,
    gatewayIp: network.gatewayIp,
    prefixLength: network.podPrefixLength,
    netnsPrefix: network.netnsPrefix,
    vethPrefix: network.vethPrefix,
    apiserver: { host: "127.0.0.1", port: network.apiserverPort },
    apiserverForPods: serviceProxy
      ? { host: network.kubernetesServiceIp, port: 443 }
      : { host: network.gatewayIp, port: network.apiserverPort },
    kubelet: {
      port: network.kubeletPort,
      cert: creds.kubeletServing.cert,
      key: creds.kubeletServing.key,
      ca: creds.pki.ca.cert,
    },
    provisioner: { volumesDir: paths.volumes, kubeconfig: creds.kubeconfigs.provisioner },
    dns: { kubeconfig: creds.kubeconfigs.dns },
    backoff: { initialMs: 1000, maxMs: 300_000 },
    nodes,
  };
}

/** Writes the agent's configuration for `count` nodes and starts the node agent. */
function startNodeAgent(boot: ClusterBoot, count: number, serviceProxy: boolean): ManagedProcess {
  const { paths, creds, state } = boot;
  const nodes = Array.from({ length: count }, (_, i) => ({
    name: nodeName(i + 1),
    podCidr: nodePodCidr(i + 1),
    kubeconfig: nodeKubeconfig(paths, creds.pki, nodeName(i + 1)),
  }));
  state.nodes = nodes.map((n) => n.name);
  const agentConfig = agentConfigFor(paths, creds, nodes, serviceProxy);
  writeFileSync(paths.agentConfig, JSON.stringify(agentConfig, null, 2));
  return boot.track(
    startProcess(
      "node-agent",
      process.execPath,
      ["--import", "tsx", join(repoRoot, "cluster", "agent", "main.ts"), paths.agentConfig],
      join(paths.logs, "node-agent.log"),
      { cwd: repoRoot },
    ),
  );
}

/** True when every named node reports the Ready condition True. */
async function nodesReady(core: CoreV1Api, names: string[]): Promise<boolean> {
  const list = await core.listNode();
  return names.every((n) =>
    list.items.some(
      (node) =>
        node.metadata?.name === n &&
        node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
    ),
  );
}

/** Turns on ip_forward (remembering its old value for `down`) and starts kube-proxy. */
async function startServiceProxy(boot: ClusterBoot): Promise<void> {
  const { bins, paths, creds, state } = boot;
  state.ipForwardBefore = readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8").trim();
  // Pods reach Services through the host: DNAT happens there, then the packet is routed
  // back onto the bridge, which needs forwarding on.
  writeFileSync("/proc/sys/net/ipv4/ip_forward", "1");
  writeState(paths.state, state);
  const proxy = boot.track(startKubeProxy(bins, paths, creds, state.nodes[0] as string));
  await waitUntil(
    "kube-proxy healthz",
    async () => (await get(`http://127.0.0.1:${network.proxyHealthzPort}/healthz`)).status === 200,
    30_000,
    [proxy],
  );
}

/** True once the controller manager has created the default namespace's ServiceAccount. */
async function defaultServiceAccountExists(core: CoreV1Api): Promise<boolean> {
  try {
    await core.readNamespacedServiceAccount({ name: "default", namespace: "default" });
    return true;
  } catch {
    return false;
  }
}

/** Starts every component in order, each once the one before is healthy. */
async function bootCluster(
  boot: ClusterBoot,
  t0: number,
  count: number,
  serviceProxy: boolean,
): Promise<void> {
  const { bins, paths, creds, state, track } = boot;
  const { kc, apiserver } = await startApiserverAndEtcd(boot, t0);
  await installClusterAddons(kc);
  const kcm = track(startControllerManager(bins, paths, creds));
  const scheduler = track(startScheduler(bins, paths, creds));
  const agent = startNodeAgent(boot, count, serviceProxy);
  const core = kc.makeApiClient(CoreV1Api);
  await waitUntil(
    `node(s) ${state.nodes.join(", ")} Ready`,
    () => nodesReady(core, state.nodes),
    60_000,
    [apiserver, kcm, scheduler, agent],
  );
  if (serviceProxy) await startServiceProxy(boot);
  await waitUntil("the default ServiceAccount", () => defaultServiceAccountExists(core), 30_000, [
    kcm,
  ]);
}

/**
 * Starts the local cluster (building binaries first if the cache lacks them): etcd,
 * kube-apiserver, kube-controller-manager, kube-scheduler, the process node agent and
 * kube-proxy. Reuses a healthy running cluster instead of starting a second one.
 */
export async function startCluster(opts: StartClusterOptions = {}): Promise<ClusterInfo> {
  const log = opts.log ?? defaultLog;
  const started = Date.now();
  assertPrerequisites(opts.serviceProxy ?? true);
  const paths = clusterPaths();
  if (await clusterHealthy()) return reuseRunningCluster(paths, opts.owner ?? "manual", log);
  await clearPreviousCluster(paths, log);
  const bins = await ensureBinaries();
  const t0 = Date.now();
  resetClusterDirs(paths);
  const creds = createCredentials(paths);
  ensureBridge(network.bridge, network.gatewayIp, network.podPrefixLength);
  const state: ClusterState = {
    startedAt: new Date().toISOString(),
    processes: [],
    nodes: [],
    owner: opts.owner ?? "manual",
  };
  const track = (p: ManagedProcess) => {
    state.processes.push(p);
    writeState(paths.state, state);
    return p;
  };
  try {
    const boot: ClusterBoot = { bins, paths, creds, state, log, track };
    await bootCluster(boot, t0, opts.nodes ?? 1, opts.serviceProxy ?? true);
    const readyInMs = Date.now() - started;
    log(`cluster ready in ${(readyInMs / 1000).toFixed(1)} s; kubeconfig: ${paths.kubeconfig}`);
    return { kubeconfig: paths.kubeconfig, started: true, nodes: state.nodes, readyInMs };
  } catch (err) {
    log(`start failed: ${(err as Error).message}; tearing down`);
    await stopCluster({ log });
    throw err;
  }
}

/** Host directories the agent stages volume mounts in when the pod directory is hidden. */
const STAGING_ROOTS = ["/run/churn-stage", "/.churn-stage"];

/** Removes mount points the agent created on the host, deepest first, if still empty. */
function removeCreatedMountPoints(file: string): void {
  if (!existsSync(file)) return;
  const paths = [...new Set(readFileSync(file, "utf8").split("\n").filter(Boolean))];
  paths.sort((a, b) => b.length - a.length);
  for (const p of paths) {
    // Staging directories hold nothing but the agent's own mount points.
    if (STAGING_ROOTS.some((root) => p === root || p.startsWith(`${root}/`))) {
      rmSync(p, { recursive: true, force: true });
      continue;
    }
    try {
      const st = statSync(p);
      if (st.isDirectory()) {
        // Remove empty directories bottom-up; anything with content stays.
        const prune = (dir: string): boolean => {
          for (const e of readdirSync(dir, { withFileTypes: true })) {
            if (!e.isDirectory() || !prune(join(dir, e.name))) return false;
          }
          rmdirSync(dir);
          return true;
        };
        prune(p);
      } else if (st.size === 0) unlinkSync(p);
    } catch {}
  }
  unlinkSync(file);
}

/** Stops the recorded processes, newest first; returns what could not be stopped. */
async function stopProcesses(procs: ManagedProcess[]): Promise<string[]> {
  const errors: string[] = [];
  for (const p of procs) {
    try {
      // The agent needs time to stop pods gracefully; the control plane stops fast.
      await stopProcess(p, p.name === "node-agent" ? 20_000 : 10_000);
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  return errors;
}

/** Removes kube-proxy's rules: its own `--cleanup` when it ran, then its nftables tables. */
function removeKubeProxyRules(procs: ManagedProcess[], log: (msg: string) => void): void {
  const bins = procs.some((p) => p.name === "kube-proxy") ? cachedBinaries() : null;
  if (bins) {
    const r = spawnSync(bins["kube-proxy"], ["--cleanup", "--v=0"], { encoding: "utf8" });
    if (r.status !== 0)
      log(`kube-proxy --cleanup: ${r.stderr.trim().split("\n").slice(-3).join(" ")}`);
  }
  for (const table of ["ip kube-proxy", "ip6 kube-proxy"]) {
    spawnSync("nft", ["delete", "table", ...table.split(" ")], { stdio: "ignore" });
  }
}

/** Kills what still runs in a pod namespace and deletes it; returns the failures. */
function removePodNamespaces(): string[] {
  const errors: string[] = [];
  for (const ns of listNetns().filter((n) => n.startsWith(network.netnsPrefix))) {
    for (const pid of netnsPids(ns)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
    try {
      ip(["netns", "del", ns]);
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  return errors;
}

/** Deletes the pods' host-side veths that are still there. */
function removePodVeths(): void {
  const links = execFileSync("ip", ["-o", "link", "show"], { encoding: "utf8" });
  for (const m of links.matchAll(new RegExp(`^\\d+: (${network.vethPrefix}[^@:]+)[@:]`, "gm"))) {
    try {
      ip(["link", "del", m[1] as string]);
    } catch {}
  }
}

/** Deletes the pod bridge; returns the failure, if any. */
function removeBridge(): string[] {
  try {
    deleteBridge(network.bridge);
    return [];
  } catch (err) {
    return [(err as Error).message];
  }
}

/** What is still left on the host after a moment for the kernel to finish deleting. */
async function settledLeftovers(procs: ManagedProcess[]): Promise<string[]> {
  // The kernel destroys a deleted namespace's veths asynchronously: give it a moment.
  let leftovers = hostLeftovers(procs);
  for (let i = 0; i < 50 && leftovers.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 200));
    leftovers = hostLeftovers(procs);
  }
  return leftovers;
}

/**
 * Stops everything the cluster started and removes what it added to the host: processes,
 * pod network namespaces and veths, the bridge, kube-proxy's nftables/iptables rules, host
 * mount points it created, and restores ip_forward. Safe to run when nothing is running.
 */
export async function stopCluster(opts: { log?: (msg: string) => void } = {}): Promise<void> {
  const log = opts.log ?? defaultLog;
  const paths = clusterPaths();
  const state = readState(paths.state);
  const procs = [...(state?.processes ?? [])].reverse();
  const errors = await stopProcesses(procs);
  removeKubeProxyRules(procs, log);
  // Whatever still runs in a pod namespace (the agent died, say) goes too.
  errors.push(...removePodNamespaces());
  removePodVeths();
  errors.push(...removeBridge());
  if (state?.ipForwardBefore !== undefined) {
    writeFileSync("/proc/sys/net/ipv4/ip_forward", state.ipForwardBefore);
  }
  removeCreatedMountPoints(paths.createdMountPoints);
  rmSync(paths.state, { force: true });
  errors.push(...(await settledLeftovers(procs)));
  if (errors.length > 0) throw new Error(`cluster stopped with errors:\n${errors.join("\n")}`);
  if (state) log("cluster stopped");
}

/**
 * What a stopped cluster must not leave behind on the host: its processes, pod network
 * namespaces, veths, the bridge, kube-proxy's nftables tables. Each one found is a line.
 */
export function hostLeftovers(procs: ManagedProcess[]): string[] {
  const found: string[] = [];
  for (const p of procs)
    if (isRunning(p)) found.push(`process ${p.name} (pid ${p.pid}) still runs`);
  for (const ns of listNetns().filter((n) => n.startsWith(network.netnsPrefix))) {
    found.push(`network namespace ${ns} still exists`);
  }
  const links = execFileSync("ip", ["-o", "link", "show"], { encoding: "utf8" });
  for (const m of links.matchAll(/^\d+: ([^@:]+)[@:]/gm)) {
    const name = m[1] as string;
    if (name === network.bridge || name.startsWith(network.vethPrefix)) {
      found.push(`link ${name} still exists`);
    }
  }
  const tables = spawnSync("nft", ["list", "tables"], { encoding: "utf8" }).stdout ?? "";
  if (/kube-proxy/.test(tables)) found.push("kube-proxy nftables tables still exist");
  return found;
}

/** Test runs holding a lease on the cluster (see cluster-lease.ts). */
function leaseHolders(dir: string): number {
  const users = join(dir, "users");
  return existsSync(users) ? readdirSync(users).length : 0;
}

/** One line per component, the apiserver's /readyz answer, nodes and a pod count by phase. */
export async function clusterStatus(): Promise<{ running: boolean; lines: string[] }> {
  const paths = clusterPaths();
  const state = readState(paths.state);
  if (!state) return { running: false, lines: ["not running"] };
  const lines = state.processes.map(
    (p) =>
      `${p.name.padEnd(24)} pid ${String(p.pid).padEnd(8)} ${isRunning(p) ? "running" : "NOT RUNNING"}`,
  );
  const healthy = await clusterHealthy();
  lines.push(`apiserver /readyz          ${healthy ? "ok" : "not ready"}`);
  if (healthy) {
    const kc = new KubeConfig();
    kc.loadFromFile(paths.kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);
    const [nodes, pods] = await Promise.all([core.listNode(), core.listPodForAllNamespaces()]);
    for (const n of nodes.items) {
      const ready = n.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
      lines.push(`node ${String(n.metadata?.name).padEnd(21)} ${ready ? "Ready" : "NotReady"}`);
    }
    const byPhase = new Map<string, number>();
    for (const p of pods.items) {
      const phase = p.status?.phase ?? "Unknown";
      byPhase.set(phase, (byPhase.get(phase) ?? 0) + 1);
    }
    const summary = [...byPhase].map(([phase, n]) => `${n} ${phase}`).join(", ");
    lines.push(`pods                       ${summary || "none"}`);
  }
  lines.push(`owner                      ${state.owner} (users: ${leaseHolders(paths.dir)})`);
  lines.push(`kubeconfig                 ${paths.kubeconfig}`);
  return { running: healthy, lines };
}
