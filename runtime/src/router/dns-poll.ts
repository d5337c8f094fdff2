// Looking a name up again and again: what the router's gRPC resolver (dns-poll-resolver.ts)
// and its HTTP pod pools (pod-pool.ts) both follow for a version's headless Service, whose
// name answers the address of each ready pod. A lookup runs every REFRESH_MS and whenever a
// user asks (a connection lost; at most every MIN_GAP_MS); the listener hears of a new address
// set only when it changed, and of every failed lookup. No gRPC here: the HTTP side must not
// load it (import-grpc.ts).
import { promises as dns } from "node:dns";

/** How often a name is looked up again while it is followed. */
export const REFRESH_MS = 2_000;

/** Lookups asked for (connections lost) are at most this frequent. */
const MIN_GAP_MS = 500;

/** A traffic file's `dns:[//server]/host:port` target, taken apart. */
export interface DnsTarget {
  /** The DNS server to ask (`host:port`); undefined: the system's resolver. */
  server: string | undefined;
  host: string;
  port: number;
}

/** `dns:[//server]/host:port`: the server, the host and the port. */
export const DNS_TARGET = /^dns:(?:\/\/([^\s/]*))?\/([^\s/]+):([0-9]{1,5})$/;

/** Reads `dns:[//server]/host:port`; undefined for anything else. */
export function parseDnsTarget(target: string): DnsTarget | undefined {
  const m = DNS_TARGET.exec(target);
  if (!m) return undefined;
  return {
    server: m[1] || undefined,
    host: (m[2] ?? "").replace(/^\[(.*)\]$/, "$1"),
    port: Number(m[3]),
  };
}

/** Resolves `host` to its addresses: through `server` when the target names one, else the system's. */
export async function lookup(host: string, server: string | undefined): Promise<string[]> {
  if (!server) return (await dns.lookup(host, { all: true })).map((a) => a.address);
  const resolver = new dns.Resolver();
  resolver.setServers([server]);
  const found = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
  const addresses = found.flatMap((r) => (r.status === "fulfilled" ? r.value : []));
  if (addresses.length > 0) return addresses;
  const failed = found.find((r) => r.status === "rejected");
  throw failed
    ? failed.reason
    : Object.assign(new Error(`${host}: no addresses`), { code: "ENODATA" });
}

/** Follows one name: its address set as it changes (never empty), or an Error per failed lookup. */
export class DnsPoll {
  private timer: NodeJS.Timeout | undefined;
  private pending = false;
  private again = false;
  private lastAt = 0;
  /** The address set last handed over, sorted and joined; "" before any or after an error. */
  private last = "";
  private stopped = false;

  constructor(
    private readonly host: string | undefined,
    private readonly server: string | undefined,
    private readonly listener: (addresses: string[] | Error) => void,
    /** What `host` was read from, for the error when it is not a host. */
    private readonly what = host ?? "",
  ) {}

  /** Looks the name up now (or as soon as the gap allows), then every REFRESH_MS. */
  refresh(): void {
    this.stopped = false;
    if (this.pending) {
      this.again = true;
      return;
    }
    const wait = this.lastAt + MIN_GAP_MS - Date.now();
    if (wait > 0) this.schedule(wait);
    else void this.resolve();
  }

  /** No more lookups (until `refresh` is called again). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.last = "";
  }

  private schedule(ms: number) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), ms);
    this.timer.unref();
  }

  private async resolve() {
    this.pending = true;
    this.lastAt = Date.now();
    let addresses: string[] | Error;
    try {
      if (!this.host) throw new Error(`not a host:port: ${this.what}`);
      addresses = await lookup(this.host, this.server);
    } catch (err) {
      addresses = err instanceof Error ? err : new Error(String(err));
    }
    this.pending = false;
    if (this.stopped) return;
    this.deliver(addresses);
    if (this.again) {
      this.again = false;
      this.refresh();
    } else {
      this.schedule(REFRESH_MS);
    }
  }

  private deliver(addresses: string[] | Error) {
    if (addresses instanceof Error) {
      this.last = "";
      this.listener(addresses);
      return;
    }
    const key = [...addresses].sort().join(",");
    if (key === this.last) return;
    this.last = key;
    this.listener(addresses);
  }
}
