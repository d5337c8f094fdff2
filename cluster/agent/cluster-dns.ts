import { createSocket, type Socket } from "node:dgram";
import {
  CoreV1Api,
  DiscoveryV1Api,
  type KubeConfig,
  type V1Endpoint,
  type V1EndpointSlice,
  type V1Service,
} from "@kubernetes/client-node";
import { describeError } from "./describe-error.js";

/** The cluster domain, as on kubeadm and kind clusters. */
export const CLUSTER_DOMAIN = "cluster.local";

const TYPE_A = 1;
const TYPE_AAAA = 28;
const CLASS_IN = 1;

/** A parsed DNS question. */
export interface DnsQuery {
  id: number;
  flags: number;
  name: string;
  type: number;
  qclass: number;
  /** The question section as received, echoed in the answer. */
  question: Buffer;
}

/** Parses a single-question DNS query; null for anything else (it is then ignored). */
export function parseQuery(msg: Buffer): DnsQuery | null {
  if (msg.length < 12 || msg.readUInt16BE(4) !== 1) return null;
  const labels: string[] = [];
  let i = 12;
  while (i < msg.length) {
    const len = msg[i] as number;
    if (len === 0) break;
    if (len > 63 || i + 1 + len > msg.length) return null;
    labels.push(msg.subarray(i + 1, i + 1 + len).toString("latin1"));
    i += 1 + len;
  }
  if (i + 5 > msg.length) return null;
  return {
    id: msg.readUInt16BE(0),
    flags: msg.readUInt16BE(2),
    name: labels.join(".").toLowerCase(),
    type: msg.readUInt16BE(i + 1),
    qclass: msg.readUInt16BE(i + 3),
    question: msg.subarray(12, i + 5),
  };
}

/** Builds the answer: A records for `ips` (for an A question), or the given error code. */
export function buildResponse(q: DnsQuery, ips: string[], rcode: number): Buffer {
  const answers = q.type === TYPE_A && rcode === 0 ? ips : [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(q.id, 0);
  // QR, the query's opcode and RD, authoritative answer, recursion available, rcode.
  header.writeUInt16BE(0x8000 | (q.flags & 0x7900) | 0x0400 | 0x0080 | rcode, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  const records = answers.map((ip) => {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0); // pointer to the question's name
    rr.writeUInt16BE(TYPE_A, 2);
    rr.writeUInt16BE(CLASS_IN, 4);
    rr.writeUInt32BE(5, 6); // TTL: short, Services come and go during tests
    rr.writeUInt16BE(4, 10);
    ip.split(".").forEach((octet, k) => {
      rr.writeUInt8(Number(octet), 12 + k);
    });
    return rr;
  });
  return Buffer.concat([header, q.question, ...records]);
}

/** Cluster state the resolver answers from. */
export interface DnsSnapshot {
  services: V1Service[];
  slices: V1EndpointSlice[];
}

/** `<a-b-c-d>` of a pod name to the address it spells, or null when it spells none. */
function podNameAddress(label: string): string[] | null {
  const ip = label.replaceAll("-", ".");
  return /^\d+\.\d+\.\d+\.\d+$/.test(ip) ? [ip] : null;
}

/** The endpoints of a Service that DNS may hand out (ready ones, unless it publishes all). */
function serviceEndpoints(svc: V1Service, snap: DnsSnapshot): V1Endpoint[] {
  const ns = svc.metadata?.namespace;
  const svcName = svc.metadata?.name;
  return snap.slices
    .filter(
      (s) =>
        s.metadata?.namespace === ns &&
        s.metadata?.labels?.["kubernetes.io/service-name"] === svcName,
    )
    .flatMap((s) => s.endpoints ?? [])
    .filter((e) => e.conditions?.ready !== false || svc.spec?.publishNotReadyAddresses);
}

/** `[<svc>, <ns>, svc]` or `[<hostname>, <svc>, <ns>, svc]` to its addresses, or null. */
function resolveServiceName(parts: string[], snap: DnsSnapshot): string[] | null {
  const [host, svcName, ns] = parts.length === 4 ? parts : [undefined, parts[0], parts[1]];
  const svc = snap.services.find(
    (s) => s.metadata?.name === svcName && s.metadata?.namespace === ns,
  );
  if (!svc) return null;
  const endpoints = serviceEndpoints(svc, snap);
  if (host !== undefined) {
    const ips = endpoints.filter((e) => e.hostname === host).flatMap((e) => e.addresses);
    return ips.length > 0 ? ips : null;
  }
  const clusterIp = svc.spec?.clusterIP;
  if (clusterIp && clusterIp !== "None") return [clusterIp];
  return [...new Set(endpoints.flatMap((e) => e.addresses))];
}

/**
 * Resolves a cluster name the way cluster DNS does: `<svc>.<ns>.svc.<domain>` to the
 * ClusterIP (or, for headless Services, the ready endpoint addresses),
 * `<hostname>.<svc>.<ns>.svc.<domain>` to that endpoint, and `<a-b-c-d>.<ns>.pod.<domain>` to
 * the address it spells. Returns null for names that do not exist (NXDOMAIN).
 */
export function resolveClusterName(name: string, snap: DnsSnapshot): string[] | null {
  const suffix = `.${CLUSTER_DOMAIN}`;
  if (!name.endsWith(suffix)) return null;
  const parts = name.slice(0, -suffix.length).split(".");
  if (parts.length === 3 && parts[2] === "pod") return podNameAddress(parts[0] ?? "");
  if (parts.at(-1) !== "svc" || (parts.length !== 3 && parts.length !== 4)) return null;
  return resolveServiceName(parts, snap);
}

/**
 * A small authoritative DNS server for `cluster.local` on the bridge gateway, so pods resolve
 * Services by name as with CoreDNS. Other names get NXDOMAIN: pods on the process node have no
 * business reaching outside. State is re-listed at most once a second, and again on a miss.
 */
export class ClusterDns {
  private readonly core: CoreV1Api;
  private readonly discovery: DiscoveryV1Api;
  private snapshot: DnsSnapshot = { services: [], slices: [] };
  private fetchedAt = 0;
  private refreshing?: Promise<void>;
  private socket?: Socket;

  constructor(
    kc: KubeConfig,
    private readonly log: (msg: string) => void,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.discovery = kc.makeApiClient(DiscoveryV1Api);
  }

  private refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        const [services, slices] = await Promise.all([
          this.core.listServiceForAllNamespaces(),
          this.discovery.listEndpointSliceForAllNamespaces(),
        ]);
        this.snapshot = { services: services.items, slices: slices.items };
        this.fetchedAt = Date.now();
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  /** Answers one query message. */
  async answer(msg: Buffer): Promise<Buffer | null> {
    const q = parseQuery(msg);
    if (!q) return null;
    if (q.qclass !== CLASS_IN) return buildResponse(q, [], 4); // NOTIMP
    if (Date.now() - this.fetchedAt > 1000) await this.refresh();
    let ips = resolveClusterName(q.name, this.snapshot);
    if (ips === null || ips.length === 0) {
      // Just created? Look again before saying it does not exist.
      await this.refresh();
      ips = resolveClusterName(q.name, this.snapshot);
    }
    if (ips === null) return buildResponse(q, [], 3); // NXDOMAIN
    // AAAA and other types for an existing name: no data (IPv4-only cluster).
    return buildResponse(q, q.type === TYPE_AAAA ? [] : ips, 0);
  }

  /** Listens on UDP `host:port`. */
  listen(host: string, port: number): Promise<void> {
    const socket = createSocket("udp4");
    this.socket = socket;
    socket.on("message", (msg, rinfo) => {
      this.answer(msg).then(
        (res) => {
          if (res) socket.send(res, rinfo.port, rinfo.address);
        },
        (err) => this.log(`dns: ${describeError(err)}`),
      );
    });
    return new Promise((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(port, host, () => resolve());
    });
  }

  /** Stops listening. */
  close(): void {
    this.socket?.close();
  }
}

/** The resolv.conf a ClusterFirst pod gets, like the kubelet writes. */
export function podResolvConf(
  namespace: string,
  nameserver: string,
  searches: string[] = [],
  options: string[] = [],
): string {
  const search = [
    `${namespace}.svc.${CLUSTER_DOMAIN}`,
    `svc.${CLUSTER_DOMAIN}`,
    CLUSTER_DOMAIN,
    ...searches,
  ];
  return [
    `search ${search.join(" ")}`,
    `nameserver ${nameserver}`,
    `options ${["ndots:5", ...options].join(" ")}`,
    "",
  ].join("\n");
}
