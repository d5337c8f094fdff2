// A grpc-js name resolver for the router's `dns:` targets that also re-resolves on a timer.
// grpc-js's own DNS resolver looks a name up again only when a connection is lost (its
// `grpc.dns_min_time_between_resolutions_ms` is a rate limit, not a period: grpc-node#2455,
// #2847), so a replica added to a version behind a headless Service would get no call until
// some other pod went away. This one looks the name up every REFRESH_MS and whenever the load
// balancer asks (a connection lost), and hands round_robin a new address list only when the
// set of addresses changed, so the connections to pods that stay are kept.
import { promises as dns } from "node:dns";
import * as grpc from "@grpc/grpc-js";

/** The scheme the router's channels use for a traffic file's `dns:` targets. */
export const DNS_POLL_SCHEME = "churn-dns";

/** How often a name is looked up again while its channel lives. */
export const REFRESH_MS = 2_000;

/** Lookups asked for by the balancer (connections lost) are at most this frequent. */
const MIN_GAP_MS = 500;

type GrpcUri = grpc.experimental.GrpcUri;

const { statusOrFromValue, statusOrFromError, splitHostPort, registerResolver } = grpc.experimental;

/** Resolves `host` to its addresses: through `server` when the target names one, else the system's. */
async function lookup(host: string, server: string | undefined): Promise<string[]> {
  if (!server) return (await dns.lookup(host, { all: true })).map((a) => a.address);
  const resolver = new dns.Resolver();
  resolver.setServers([server]);
  const found = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
  const addresses = found.flatMap((r) => (r.status === "fulfilled" ? r.value : []));
  if (addresses.length > 0) return addresses;
  const failed = found.find((r) => r.status === "rejected");
  throw failed ? failed.reason : new Error(`${host}: no addresses`);
}

class DnsPollResolver implements grpc.experimental.Resolver {
  private readonly host: string | undefined;
  private readonly port: number;
  private timer: NodeJS.Timeout | undefined;
  private pending = false;
  private again = false;
  private lastAt = 0;
  /** The address set last handed over, sorted and joined; "" before any or after an error. */
  private last = "";
  private destroyed = false;

  constructor(
    private readonly target: GrpcUri,
    private readonly listener: grpc.experimental.ResolverListener,
  ) {
    const hostPort = splitHostPort(target.path);
    this.host = hostPort?.host;
    this.port = hostPort?.port ?? 443;
  }

  updateResolution(): void {
    this.destroyed = false;
    if (this.pending) {
      this.again = true;
      return;
    }
    const wait = this.lastAt + MIN_GAP_MS - Date.now();
    if (wait > 0) this.schedule(wait);
    else void this.resolve();
  }

  destroy(): void {
    this.destroyed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.last = "";
  }

  private schedule(ms: number) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.updateResolution(), ms);
    this.timer.unref();
  }

  private async resolve() {
    this.pending = true;
    this.lastAt = Date.now();
    let addresses: string[] | Error;
    try {
      if (!this.host) throw new Error(`not a host:port: ${this.target.path}`);
      addresses = await lookup(this.host, this.target.authority || undefined);
    } catch (err) {
      addresses = err instanceof Error ? err : new Error(String(err));
    }
    this.pending = false;
    if (this.destroyed) return;
    this.deliver(addresses);
    if (this.again) {
      this.again = false;
      this.updateResolution();
    } else {
      this.schedule(REFRESH_MS);
    }
  }

  private deliver(addresses: string[] | Error) {
    if (addresses instanceof Error) {
      // round_robin keeps the addresses it has and fails calls only when it has none.
      this.last = "";
      const details = `DNS resolution of ${this.host} failed: ${addresses.message}`;
      this.listener(
        statusOrFromError({ code: grpc.status.UNAVAILABLE, details }),
        {},
        null,
        details,
      );
      return;
    }
    const key = [...addresses].sort().join(",");
    if (key === this.last) return;
    this.last = key;
    const endpoints = addresses.map((host) => ({ addresses: [{ host, port: this.port }] }));
    this.listener(statusOrFromValue(endpoints), {}, null, "");
  }

  static getDefaultAuthority(target: GrpcUri): string {
    return splitHostPort(target.path)?.host ?? target.path;
  }
}

let registered = false;

/**
 * The grpc-js target the router dials for a traffic file's target: a `dns:` one through this
 * resolver (registered on first use), anything else unchanged.
 */
export function pollingTarget(target: string): string {
  if (!target.startsWith("dns:")) return target;
  if (!registered) {
    registerResolver(DNS_POLL_SCHEME, DnsPollResolver);
    registered = true;
  }
  return `${DNS_POLL_SCHEME}:${target.slice("dns:".length)}`;
}
