// A grpc-js name resolver for the router's `dns:` targets that also re-resolves on a timer.
// grpc-js's own DNS resolver looks a name up again only when a connection is lost (its
// `grpc.dns_min_time_between_resolutions_ms` is a rate limit, not a period: grpc-node#2455,
// #2847), so a replica added to a version behind a headless Service would get no call until
// some other pod went away. This one follows the name with DnsPoll (every REFRESH_MS, and
// whenever the load balancer asks: a connection lost) and hands round_robin a new address list
// only when the set of addresses changed, so the connections to pods that stay are kept.
import * as grpc from "@grpc/grpc-js";
import { DnsPoll } from "./dns-poll.js";

/** The scheme the router's channels use for a traffic file's `dns:` targets. */
export const DNS_POLL_SCHEME = "churn-dns";

type GrpcUri = grpc.experimental.GrpcUri;

const { statusOrFromValue, statusOrFromError, splitHostPort, registerResolver } = grpc.experimental;

class DnsPollResolver implements grpc.experimental.Resolver {
  private readonly poll: DnsPoll;

  constructor(target: GrpcUri, listener: grpc.experimental.ResolverListener) {
    const hostPort = splitHostPort(target.path);
    const port = hostPort?.port ?? 443;
    this.poll = new DnsPoll(
      hostPort?.host,
      target.authority || undefined,
      (addresses) => {
        if (addresses instanceof Error) {
          // round_robin keeps the addresses it has and fails calls only when it has none.
          const details = `DNS resolution of ${hostPort?.host} failed: ${addresses.message}`;
          listener(
            statusOrFromError({ code: grpc.status.UNAVAILABLE, details }),
            {},
            null,
            details,
          );
          return;
        }
        const endpoints = addresses.map((host) => ({ addresses: [{ host, port }] }));
        listener(statusOrFromValue(endpoints), {}, null, "");
      },
      target.path,
    );
  }

  updateResolution(): void {
    this.poll.refresh();
  }

  destroy(): void {
    this.poll.stop();
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
