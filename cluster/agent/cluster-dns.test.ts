import { createSocket } from "node:dgram";
import { Resolver } from "node:dns/promises";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildResponse,
  type DnsSnapshot,
  parseQuery,
  podResolvConf,
  resolveClusterName,
} from "./cluster-dns.js";

const snapshot: DnsSnapshot = {
  services: [
    { metadata: { name: "web", namespace: "shop" }, spec: { clusterIP: "10.96.0.20" } },
    { metadata: { name: "db", namespace: "shop" }, spec: { clusterIP: "None" } },
  ],
  slices: [
    {
      addressType: "IPv4",
      metadata: { namespace: "shop", labels: { "kubernetes.io/service-name": "db" } },
      endpoints: [
        { addresses: ["10.244.1.5"], hostname: "db-0", conditions: { ready: true } },
        { addresses: ["10.244.1.6"], hostname: "db-1", conditions: { ready: false } },
      ],
    },
  ],
};

describe("resolveClusterName", () => {
  it.each([
    ["web.shop.svc.cluster.local", ["10.96.0.20"]],
    ["db.shop.svc.cluster.local", ["10.244.1.5"]],
    ["db-0.db.shop.svc.cluster.local", ["10.244.1.5"]],
    ["10-244-1-9.shop.pod.cluster.local", ["10.244.1.9"]],
    ["web.other.svc.cluster.local", null],
    ["web.shop.shop.svc.cluster.local", null],
    ["example.com", null],
  ])("%s -> %j", (name, ips) => {
    expect(resolveClusterName(name, snapshot)).toEqual(ips);
  });
});

describe("DNS messages", () => {
  let port = 0;
  const socket = createSocket("udp4");

  beforeAll(async () => {
    socket.on("message", (msg, rinfo) => {
      const q = parseQuery(msg);
      if (!q) return;
      const ips = resolveClusterName(q.name, snapshot);
      socket.send(buildResponse(q, ips ?? [], ips ? 0 : 3), rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => socket.bind(0, "127.0.0.1", () => r()));
    port = (socket.address() as AddressInfo).port;
  });
  afterAll(() => socket.close());

  it("are understood by a real resolver: answers and NXDOMAIN", async () => {
    const resolver = new Resolver({ timeout: 2000, tries: 1 });
    resolver.setServers([`127.0.0.1:${port}`]);
    expect(await resolver.resolve4("web.shop.svc.cluster.local")).toEqual(["10.96.0.20"]);
    expect(await resolver.resolve4("WEB.shop.svc.cluster.local")).toEqual(["10.96.0.20"]);
    await expect(resolver.resolve4("nope.shop.svc.cluster.local")).rejects.toMatchObject({
      code: "ENOTFOUND",
    });
  });
});

describe("podResolvConf", () => {
  it("searches the pod's namespace first, like the kubelet", () => {
    expect(podResolvConf("shop", "10.244.0.1")).toBe(
      "search shop.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.244.0.1\noptions ndots:5\n",
    );
  });
});
