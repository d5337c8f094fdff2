import { readFileSync, writeFileSync } from "node:fs";
import { stringify } from "yaml";
import type { KeyPair } from "./pki.js";

const b64 = (file: string) => readFileSync(file).toString("base64");

/**
 * Writes a kubeconfig that authenticates with a client certificate. Certificates are embedded,
 * so the file can be copied elsewhere and still works.
 */
export function writeKubeconfig(
  path: string,
  opts: { server: string; caCert: string; client: KeyPair; user: string },
): void {
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "churn-local",
        cluster: { server: opts.server, "certificate-authority-data": b64(opts.caCert) },
      },
    ],
    users: [
      {
        name: opts.user,
        user: {
          "client-certificate-data": b64(opts.client.cert),
          "client-key-data": b64(opts.client.key),
        },
      },
    ],
    contexts: [{ name: "churn-local", context: { cluster: "churn-local", user: opts.user } }],
    "current-context": "churn-local",
  };
  writeFileSync(path, stringify(config), { mode: 0o600 });
}
