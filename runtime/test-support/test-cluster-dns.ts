// Cluster DNS for tests: the local cluster's own resolver logic (cluster/agent/cluster-dns.ts,
// headless Services answered with their ready endpoints' addresses) on a loopback UDP port,
// answering from a snapshot the test changes as pods come, turn ready and go.
import { createSocket } from "node:dgram";
import type { AddressInfo } from "node:net";
import {
  buildResponse,
  type DnsSnapshot,
  parseQuery,
  resolveClusterName,
} from "../../cluster/agent/cluster-dns.js";

/** A DNS server on 127.0.0.1 answering cluster names from `snapshot()` at each query. */
export async function startTestClusterDns(snapshot: () => DnsSnapshot) {
  const socket = createSocket("udp4");
  const served = { queries: 0, failing: false };
  socket.on("message", (msg, from) => {
    const q = parseQuery(msg);
    if (!q) return;
    served.queries++;
    // A records only (other types of a name that exists: no data); NXDOMAIN for the rest;
    // SERVFAIL for everything while `failing` (a server that cannot answer now).
    const ips = served.failing ? [] : resolveClusterName(q.name, snapshot());
    const rcode = served.failing ? 2 : ips === null ? 3 : 0;
    socket.send(buildResponse(q, ips ?? [], rcode), from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const { port } = socket.address() as AddressInfo;
  return {
    /** Questions answered so far. */
    get queries() {
      return served.queries;
    },
    /** True: every question is answered SERVFAIL. */
    set failing(on: boolean) {
      served.failing = on;
    },
    /** The server as `host:port`, e.g. a gRPC `dns://<server>/name:port` target's authority. */
    server: `127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/** A headless Service `name` in `namespace` whose endpoints are `addresses` (true: ready). */
export function headlessService(
  namespace: string,
  name: string,
  addresses: Map<string, boolean>,
): DnsSnapshot {
  return {
    services: [{ metadata: { name, namespace }, spec: { clusterIP: "None" } }],
    slices: [
      {
        addressType: "IPv4",
        metadata: { namespace, labels: { "kubernetes.io/service-name": name } },
        endpoints: [...addresses].map(([ip, ready]) => ({
          addresses: [ip],
          conditions: { ready },
        })),
      },
    ],
  };
}
