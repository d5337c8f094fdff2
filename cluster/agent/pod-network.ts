import { execFileSync } from "node:child_process";

/** Runs `ip` with the given arguments; throws with its stderr on failure. */
export function ip(args: string[]): string {
  try {
    return execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? String(err);
    throw new Error(`ip ${args.join(" ")}: ${stderr.trim()}`);
  }
}

/** Network namespaces currently present (names only). */
export function listNetns(): string[] {
  return ip(["netns", "list"])
    .split("\n")
    .map((l) => l.split(" ")[0] ?? "")
    .filter(Boolean);
}

/** Creates the pod bridge with the gateway address, if it does not exist yet. */
export function ensureBridge(bridge: string, gatewayIp: string, prefixLength: number): void {
  const exists = ip(["-o", "link", "show"]).includes(` ${bridge}:`);
  if (!exists) ip(["link", "add", bridge, "type", "bridge"]);
  const addrs = ip(["-o", "addr", "show", "dev", bridge]);
  if (!addrs.includes(` ${gatewayIp}/`)) {
    ip(["addr", "add", `${gatewayIp}/${prefixLength}`, "dev", bridge]);
  }
  ip(["link", "set", bridge, "up"]);
}

/** Deletes the bridge if present. */
export function deleteBridge(bridge: string): void {
  if (ip(["-o", "link", "show"]).includes(` ${bridge}:`)) ip(["link", "del", bridge]);
}

/**
 * Hands out addresses from a node's /24 (".2" to ".254"; ".1" stays unused per node),
 * round-robin like CNI's host-local IPAM, so a freed address is not reused at once.
 */
export class PodIpPool {
  private readonly used = new Set<number>();
  private readonly base: string;
  private last = 1;

  constructor(cidr: string) {
    const m = /^(\d+\.\d+\.\d+)\.0\/24$/.exec(cidr);
    if (!m) throw new Error(`pod CIDR must be an a.b.c.0/24 range, got "${cidr}"`);
    this.base = m[1] as string;
  }

  /** Reserves the next free address after the last one handed out. */
  allocate(): string {
    for (let i = 0; i < 253; i++) {
      const host = ((this.last - 2 + 1 + i) % 253) + 2;
      if (!this.used.has(host)) {
        this.used.add(host);
        this.last = host;
        return `${this.base}.${host}`;
      }
    }
    throw new Error(`pod CIDR ${this.base}.0/24 is exhausted`);
  }

  /** Returns an address to the pool. */
  release(addr: string): void {
    if (addr.startsWith(`${this.base}.`)) this.used.delete(Number(addr.split(".")[3]));
  }
}

/** One pod's sandbox network: its namespace, host-side veth and address. */
export interface PodNetwork {
  netns: string;
  hostVeth: string;
  ip: string;
}

/**
 * Creates a network namespace for a pod with `eth0` (veth into the bridge) holding `podIp`,
 * loopback up and the bridge gateway as default route.
 */
export function createPodNetwork(
  id: string,
  podIp: string,
  opts: {
    netnsPrefix: string;
    vethPrefix: string;
    bridge: string;
    gatewayIp: string;
    prefixLength: number;
  },
): PodNetwork {
  const netns = `${opts.netnsPrefix}${id}`;
  const hostVeth = `${opts.vethPrefix}${id}`.slice(0, 15);
  deletePodNetwork({ netns, hostVeth, ip: podIp });
  ip(["netns", "add", netns]);
  try {
    ip(["link", "add", hostVeth, "type", "veth", "peer", "name", "eth0", "netns", netns]);
    ip(["link", "set", hostVeth, "master", opts.bridge]);
    ip(["link", "set", hostVeth, "up"]);
    ip(["-n", netns, "addr", "add", `${podIp}/${opts.prefixLength}`, "dev", "eth0"]);
    ip(["-n", netns, "link", "set", "lo", "up"]);
    ip(["-n", netns, "link", "set", "eth0", "up"]);
    ip(["-n", netns, "route", "add", "default", "via", opts.gatewayIp]);
  } catch (err) {
    deletePodNetwork({ netns, hostVeth, ip: podIp });
    throw err;
  }
  return { netns, hostVeth, ip: podIp };
}

/** Removes a pod's namespace and veth; a no-op for parts already gone. */
export function deletePodNetwork(net: PodNetwork): void {
  if (ip(["-o", "link", "show"]).includes(` ${net.hostVeth}@`)) {
    try {
      ip(["link", "del", net.hostVeth]);
    } catch {}
  }
  if (listNetns().includes(net.netns)) ip(["netns", "del", net.netns]);
}

/** Pids of every process inside a network namespace. */
export function netnsPids(netns: string): number[] {
  try {
    return ip(["netns", "pids", netns])
      .split("\n")
      .map(Number)
      .filter((n) => n > 0);
  } catch {
    return [];
  }
}
