import { createConnection, createServer, type Server } from "node:net";

/**
 * Forwards TCP connections from an address pods can reach (the bridge gateway) to the
 * apiserver on loopback. TLS passes through untouched: the serving certificate lists the
 * gateway address, so in-pod clients verify the apiserver as usual.
 */
export function forwardApiserver(
  listen: { host: string; port: number },
  target: { host: string; port: number },
): Promise<Server> {
  const server = createServer((inbound) => {
    const outbound = createConnection(target);
    inbound.pipe(outbound);
    outbound.pipe(inbound);
    const close = () => {
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on("error", close);
    outbound.on("error", close);
    inbound.on("close", close);
    outbound.on("close", close);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.host, () => resolve(server));
  });
}
