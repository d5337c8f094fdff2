// Forwarding over kept-alive connections, against raw TCP servers that misbehave on purpose.

import type { AddressInfo } from "node:net";
import { createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { endToEndHeaders, UpstreamError, Upstreams } from "./upstream.js";

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

/**
 * An HTTP/1.1 server that answers the first request of each connection (keeping it alive) and
 * resets the connection on the second, as a server closing an idle connection at the moment it
 * is reused does. Returns its URL and the number of connections it accepted.
 */
async function resettingServer() {
  const stats = { connections: 0 };
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    stats.connections++;
    sockets.add(socket);
    let requests = 0;
    let buffered = "";
    socket.on("data", (chunk) => {
      buffered += chunk.toString();
      while (buffered.includes("\r\n\r\n")) {
        const end = buffered.indexOf("\r\n\r\n") + 4;
        const length = Number(/content-length: (\d+)/i.exec(buffered.slice(0, end))?.[1] ?? 0);
        if (buffered.length < end + length) return;
        buffered = buffered.slice(end + length);
        requests++;
        if (requests === 1) {
          socket.write(
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok",
          );
        } else {
          socket.resetAndDestroy();
          return;
        }
      }
    });
    socket.on("error", () => {});
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  server.on("close", () => {
    for (const s of sockets) s.destroy();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, stats };
}

const read = async (res: import("node:http").IncomingMessage) => {
  let text = "";
  for await (const c of res) text += c;
  return text;
};

const request = { method: "POST", path: "/v1/score", headers: {}, body: Buffer.from("{}") };

describe("Upstreams", () => {
  it("sends a request again on a new connection when a reused one turns out closed", async () => {
    const { url, stats } = await resettingServer();
    let retries = 0;
    const upstreams = new Upstreams(() => retries++);
    try {
      expect(await read(await upstreams.send(url, request))).toBe("ok");
      // The pooled connection is reused and reset: the caller still gets its answer.
      const second = await upstreams.send(url, request);
      expect(second.statusCode).toBe(200);
      expect(await read(second)).toBe("ok");
      expect(stats.connections).toBe(2);
      expect(retries).toBe(1);
    } finally {
      upstreams.destroy();
    }
  });

  it("reports a refused connection as retryable elsewhere, and never retries it itself", async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    let retries = 0;
    const upstreams = new Upstreams(() => retries++);
    const failure = await upstreams.send(`http://127.0.0.1:${port}`, request).catch((e) => e);
    expect(failure).toBeInstanceOf(UpstreamError);
    expect(failure.code).toBe("ECONNREFUSED");
    expect(failure.retryable).toBe(true);
    expect(retries).toBe(0);
  });

  it("forwards end-to-end headers only", () => {
    expect(
      endToEndHeaders(
        {
          connection: "keep-alive, x-hop",
          "keep-alive": "timeout=5",
          "transfer-encoding": "chunked",
          "x-hop": "1",
          "x-request-id": "r1",
          "content-type": "application/json",
          host: "router",
        },
        new Set(["host"]),
      ),
    ).toEqual({ "x-request-id": "r1", "content-type": "application/json" });
  });
});
