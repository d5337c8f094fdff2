// A version's ready pods, for the router's HTTP: the addresses its headless Service's name
// answers (followed with DnsPoll, every 2 s), each with its own kept-alive connections. A
// ClusterIP Service balances connections, not requests, and kept-alive connections are reused
// most recent first: under light traffic one connection, hence one pod, took nearly every
// request. Here each request picks its pod: the one with the fewest requests in flight, ties
// taken in turn. At low concurrency that is round robin (every pod its share); under load a
// slow pod, holding more requests, gets fewer new ones. Every pod's count is exact in this
// process and the list is a version's replicas, so all are compared: power-of-two-choices
// spares a scan of thousands of hosts or stale counts, neither of which this has.
import http from "node:http";
import https from "node:https";
import { DnsPoll, type DnsTarget } from "./dns-poll.js";

/** How long a pod that refused a connection is passed over (it is likely going away). */
const EJECT_MS = 2_000;

/** One pod: its address, kept-alive connections and requests in flight. */
export interface Pod {
  readonly address: string;
  readonly agent: http.Agent;
  outstanding: number;
  /** Passed over until this time (ms since the epoch). */
  downUntil: number;
  /** Left the name's answer: its connections close once its requests finish. */
  gone: boolean;
}

/** An agent keeping connections alive, the most recently used reused first. */
export function keptAliveAgent(secure: boolean): http.Agent {
  // No socket cap: the serving pods' own concurrency, not the router, limits load.
  const options = { keepAlive: true, scheduling: "lifo" as const };
  return secure ? new https.Agent(options) : new http.Agent(options);
}

/** Lookup failures that say the name has no address now, not that the lookup failed. */
const NO_ADDRESS = new Set(["ENOTFOUND", "ENODATA"]);
const errorCode = (err: Error) => (err as NodeJS.ErrnoException).code ?? "";

/** The ready pods of one version behind a `dns:` target; none known: the caller's fallback. */
export class PodPool {
  private pods: Pod[] = [];
  private next = 0;
  private readonly poll: DnsPoll;

  constructor(
    private readonly target: DnsTarget,
    private readonly secure: boolean,
  ) {
    this.poll = new DnsPoll(target.host, target.server, (found) => this.update(found));
    this.poll.refresh();
  }

  /** The port every pod listens on. */
  get port(): number {
    return this.target.port;
  }

  /** The pods' addresses now, in pick order. */
  get addresses(): string[] {
    return this.pods.map((p) => p.address);
  }

  /**
   * The pod for the next request: fewest in flight, ties in turn, skipping `exclude` and pods
   * passed over. Undefined when there is none (no answer yet, the last lookup failed or every
   * pod refused): the version's ClusterIP Service takes the request.
   */
  pick(exclude?: Pod): Pod | undefined {
    const now = Date.now();
    const n = this.pods.length;
    let best: Pod | undefined;
    let at = 0;
    for (let i = 0; i < n; i++) {
      const k = (this.next + i) % n;
      const pod = this.pods[k] as Pod;
      if (pod === exclude || pod.downUntil > now) continue;
      if (!best || pod.outstanding < best.outstanding) {
        best = pod;
        at = k;
      }
    }
    if (best) this.next = (at + 1) % n;
    return best;
  }

  /** Counts a request on `pod`; the function returned ends it (once). */
  begin(pod: Pod): () => void {
    pod.outstanding++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      pod.outstanding--;
      if (pod.gone && pod.outstanding === 0) pod.agent.destroy();
    };
  }

  /** Passes over a pod that refused a connection until the next lookups have had their say. */
  eject(pod: Pod): void {
    pod.downUntil = Date.now() + EJECT_MS;
  }

  /** Stops following the name and closes every pod's connections as its requests finish. */
  close(): void {
    this.poll.stop();
    this.update([]);
  }

  /**
   * A new answer: pods that stay keep their connections. A lookup that says the name has no
   * address (NXDOMAIN, no data: no ready pod) leaves none; one that could not be made (a DNS
   * server timing out or failing under load) keeps the pods last seen, as gRPC's resolver
   * does: dropping them would send everything through the ClusterIP, to one pod per kept
   * connection, on every DNS hiccup. A pod that went meanwhile refuses and is passed over.
   */
  private update(found: string[] | Error) {
    if (found instanceof Error && !NO_ADDRESS.has(errorCode(found))) return;
    const addresses = new Set(found instanceof Error ? [] : found);
    const kept = this.pods.filter((p) => addresses.has(p.address));
    for (const pod of this.pods) if (!addresses.has(pod.address)) this.retire(pod);
    const known = new Set(kept.map((p) => p.address));
    for (const address of addresses) if (!known.has(address)) kept.push(this.pod(address));
    this.pods = kept;
    this.next = kept.length > 0 ? this.next % kept.length : 0;
  }

  private pod(address: string): Pod {
    return {
      address,
      agent: keptAliveAgent(this.secure),
      outstanding: 0,
      downUntil: 0,
      gone: false,
    };
  }

  private retire(pod: Pod) {
    pod.gone = true;
    if (pod.outstanding === 0) pod.agent.destroy();
  }
}
