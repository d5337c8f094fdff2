import type { V1Pod } from "@kubernetes/client-node";
import { httpGet, waitFor } from "../../../../cluster/testing/index.js";
import type { KubeClient } from "../../../../operator/src/kube/kube-client.js";
import { Resources } from "../../../../operator/src/kube/resources.js";
import { apply } from "./kube.js";

/** A data set served over HTTP from a pod, answering nothing until the test releases it. */
export interface HeldDataServer {
  /** The CSV's URL as pods see it. */
  url: string;
  /** From now on every request (waiting or new) gets the file. */
  release(): Promise<void>;
}

// Holds GET /data.csv until POST-or-GET /release; then streams the file to every waiter.
const SERVER = `
const http = require("node:http");
const fs = require("node:fs");
let open = false;
const waiting = [];
http.createServer((req, res) => {
  if (req.url === "/release") { open = true; for (const send of waiting.splice(0)) send(); return res.end("released"); }
  if (req.url === "/healthz") return res.end("ok");
  const send = () => fs.createReadStream(process.env.CSV).on("error", () => res.destroy()).pipe(res);
  if (open) send(); else waiting.push(send);
}).listen(8080);
process.on("SIGTERM", () => process.exit(0));
`;

/**
 * Serves `pathInClaim` of the PVC `claimName` from a pod in `ns` (the `node` image), holding
 * every request until `release()`: a trainer reading it stays in its fetch, so a test can
 * observe what happens meanwhile without racing a short window.
 */
export async function startHeldDataServer(
  client: KubeClient,
  ns: string,
  claimName: string,
  pathInClaim: string,
): Promise<HeldDataServer> {
  const name = "held-data";
  await apply(client, {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: ns, labels: { app: name } },
    spec: {
      restartPolicy: "Never",
      containers: [
        {
          name: "server",
          image: "node",
          command: ["node", "-e", SERVER],
          env: [{ name: "CSV", value: `/data/${pathInClaim}` }],
          volumeMounts: [{ name: "data", mountPath: "/data", readOnly: true }],
        },
      ],
      volumes: [{ name: "data", persistentVolumeClaim: { claimName, readOnly: true } }],
    },
  } as V1Pod);
  const ip = await waitFor(`pod ${ns}/${name} to serve`, async () => {
    const pod = await client.get<V1Pod>(Resources.pods, ns, name);
    const podIp = pod?.status?.podIP;
    if (!podIp) return undefined;
    const res = await httpGet(`http://${podIp}:8080/healthz`).catch(() => undefined);
    return res?.status === 200 ? podIp : undefined;
  });
  return {
    url: `http://${ip}:8080/data.csv`,
    async release() {
      const res = await httpGet(`http://${ip}:8080/release`);
      if (res.status !== 200) throw new Error(`release answered ${res.status}: ${res.body}`);
    },
  };
}
