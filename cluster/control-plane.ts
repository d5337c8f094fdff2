import { mkdirSync, readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import type { ClusterBinaries } from "./build-binaries.js";
import { type ClusterPaths, network } from "./cluster-layout.js";
import { writeKubeconfig } from "./kubeconfig-file.js";
import { type ManagedProcess, startProcess } from "./managed-process.js";
import { ClusterPki, type KeyPair } from "./pki.js";

/** Credentials every control-plane component and the node agents use. */
export interface ControlPlaneCredentials {
  pki: ClusterPki;
  admin: KeyPair;
  apiserver: KeyPair;
  saKey: { key: string; pub: string };
  /** The apiserver's client certificate towards kubelets, and the agent's serving one. */
  kubeletClient: KeyPair;
  kubeletServing: KeyPair;
  kubeconfigs: {
    controllerManager: string;
    scheduler: string;
    proxy: string;
    provisioner: string;
    dns: string;
  };
}

export const apiserverUrl = `https://127.0.0.1:${network.apiserverPort}`;

/** The user the local-path provisioner authenticates as (bound by `cluster-addons.ts`). */
export const PROVISIONER_USER = "churn:local-path-provisioner";
/** The user the cluster DNS reads Services and EndpointSlices as. */
export const DNS_USER = "churn:cluster-dns";

/** Generates the CA, leaf certificates, service-account keys and component kubeconfigs. */
export function createCredentials(paths: ClusterPaths): ControlPlaneCredentials {
  const pki = new ClusterPki(paths.pki);
  pki.ensureCa();
  const apiserver = pki.issue({
    name: "apiserver",
    commonName: "kube-apiserver",
    usage: "server",
    dnsNames: [
      "localhost",
      "kubernetes",
      "kubernetes.default",
      "kubernetes.default.svc",
      "kubernetes.default.svc.cluster.local",
    ],
    ips: ["127.0.0.1", network.gatewayIp, network.kubernetesServiceIp],
  });
  const admin = pki.issue({
    name: "admin",
    commonName: "churn-admin",
    organizations: ["system:masters"],
    usage: "client",
  });
  const component = (name: string, user: string): string => {
    const pair = pki.issue({ name, commonName: user, usage: "client" });
    const file = join(paths.pki, `${name}.kubeconfig`);
    writeKubeconfig(file, { server: apiserverUrl, caCert: pki.ca.cert, client: pair, user });
    return file;
  };
  const kubeconfigs = {
    controllerManager: component("controller-manager", "system:kube-controller-manager"),
    scheduler: component("scheduler", "system:kube-scheduler"),
    proxy: component("kube-proxy", "system:kube-proxy"),
    provisioner: component("local-path-provisioner", PROVISIONER_USER),
    dns: component("cluster-dns", DNS_USER),
  };
  writeKubeconfig(paths.kubeconfig, {
    server: apiserverUrl,
    caCert: pki.ca.cert,
    client: admin,
    user: "churn-admin",
  });
  const kubeletClient = pki.issue({
    name: "apiserver-kubelet-client",
    commonName: "kube-apiserver-kubelet-client",
    organizations: ["system:masters"],
    usage: "client",
  });
  const kubeletServing = pki.issue({
    name: "kubelet-serving",
    commonName: "churn-process-node",
    usage: "server",
    ips: [network.gatewayIp],
  });
  return {
    pki,
    admin,
    apiserver,
    saKey: pki.serviceAccountKey(),
    kubeconfigs,
    kubeletClient,
    kubeletServing,
  };
}

/** Issues the kubeconfig a node agent uses: user `system:node:<name>` in group `system:nodes`. */
export function nodeKubeconfig(paths: ClusterPaths, pki: ClusterPki, node: string): string {
  const pair = pki.issue({
    name: `node-${node}`,
    commonName: `system:node:${node}`,
    organizations: ["system:nodes"],
    usage: "client",
  });
  const file = join(paths.pki, `node-${node}.kubeconfig`);
  writeKubeconfig(file, {
    server: apiserverUrl,
    caCert: pki.ca.cert,
    client: pair,
    user: `system:node:${node}`,
  });
  return file;
}

/** Starts etcd on loopback with fsync off: a throwaway test store trades durability for speed. */
export function startEtcd(bins: ClusterBinaries, paths: ClusterPaths): ManagedProcess {
  mkdirSync(paths.etcdData, { recursive: true, mode: 0o700 });
  const client = `http://127.0.0.1:${network.etcdClientPort}`;
  const peer = `http://127.0.0.1:${network.etcdPeerPort}`;
  return startProcess(
    "etcd",
    bins.etcd,
    [
      "--name=churn",
      `--data-dir=${paths.etcdData}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=churn=${peer}`,
      "--unsafe-no-fsync",
      "--log-level=warn",
    ],
    join(paths.logs, "etcd.log"),
  );
}

/** Starts kube-apiserver on 127.0.0.1 with client-certificate auth and Node,RBAC authorization. */
export function startApiserver(
  bins: ClusterBinaries,
  paths: ClusterPaths,
  creds: ControlPlaneCredentials,
): ManagedProcess {
  const issuer = "https://kubernetes.default.svc.cluster.local";
  return startProcess(
    "kube-apiserver",
    bins["kube-apiserver"],
    [
      `--etcd-servers=http://127.0.0.1:${network.etcdClientPort}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${network.apiserverPort}`,
      // The `kubernetes` Service's endpoint: pods reach it through the bridge gateway, where
      // the node agent forwards to loopback.
      `--advertise-address=${network.gatewayIp}`,
      `--tls-cert-file=${creds.apiserver.cert}`,
      `--tls-private-key-file=${creds.apiserver.key}`,
      `--client-ca-file=${creds.pki.ca.cert}`,
      "--authorization-mode=Node,RBAC",
      "--enable-admission-plugins=NodeRestriction",
      `--service-cluster-ip-range=${network.serviceCidr}`,
      `--service-account-issuer=${issuer}`,
      `--api-audiences=${issuer}`,
      `--service-account-key-file=${creds.saKey.pub}`,
      `--service-account-signing-key-file=${creds.saKey.key}`,
      `--kubelet-client-certificate=${creds.kubeletClient.cert}`,
      `--kubelet-client-key=${creds.kubeletClient.key}`,
      `--kubelet-certificate-authority=${creds.pki.ca.cert}`,
      "--kubelet-preferred-address-types=InternalIP",
      "--allow-privileged=true",
      "--profiling=false",
      "--v=1",
    ],
    join(paths.logs, "kube-apiserver.log"),
  );
}

/** Starts kube-controller-manager (all default controllers, per-controller service accounts). */
export function startControllerManager(
  bins: ClusterBinaries,
  paths: ClusterPaths,
  creds: ControlPlaneCredentials,
): ManagedProcess {
  const kc = creds.kubeconfigs.controllerManager;
  return startProcess(
    "kube-controller-manager",
    bins["kube-controller-manager"],
    [
      `--kubeconfig=${kc}`,
      `--authentication-kubeconfig=${kc}`,
      `--authorization-kubeconfig=${kc}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${network.controllerManagerPort}`,
      "--leader-elect=false",
      "--use-service-account-credentials=true",
      `--service-account-private-key-file=${creds.saKey.key}`,
      `--root-ca-file=${creds.pki.ca.cert}`,
      `--cluster-signing-cert-file=${creds.pki.ca.cert}`,
      `--cluster-signing-key-file=${creds.pki.ca.key}`,
      `--service-cluster-ip-range=${network.serviceCidr}`,
      "--profiling=false",
      "--v=1",
    ],
    join(paths.logs, "kube-controller-manager.log"),
  );
}

/** Starts kube-scheduler: real scheduling, so pods bind to nodes exactly as in a cluster. */
export function startScheduler(
  bins: ClusterBinaries,
  paths: ClusterPaths,
  creds: ControlPlaneCredentials,
): ManagedProcess {
  const kc = creds.kubeconfigs.scheduler;
  return startProcess(
    "kube-scheduler",
    bins["kube-scheduler"],
    [
      `--kubeconfig=${kc}`,
      `--authentication-kubeconfig=${kc}`,
      `--authorization-kubeconfig=${kc}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${network.schedulerPort}`,
      "--leader-elect=false",
      "--profiling=false",
      "--v=1",
    ],
    join(paths.logs, "kube-scheduler.log"),
  );
}

/**
 * Starts kube-proxy in nftables mode: every rule lives in kube-proxy's own nftables tables,
 * so the host's iptables chains are untouched and cleanup is one command.
 */
export function startKubeProxy(
  bins: ClusterBinaries,
  paths: ClusterPaths,
  creds: ControlPlaneCredentials,
  hostname: string,
): ManagedProcess {
  return startProcess(
    "kube-proxy",
    bins["kube-proxy"],
    [
      `--kubeconfig=${creds.kubeconfigs.proxy}`,
      `--hostname-override=${hostname}`,
      "--proxy-mode=nftables",
      `--cluster-cidr=${network.podNetwork}`,
      // Pods share one bridge: without SNAT a pod calling a Service backed by a pod on the
      // same bridge would get the reply straight from the backend's address and drop it.
      "--masquerade-all",
      `--healthz-bind-address=127.0.0.1:${network.proxyHealthzPort}`,
      `--metrics-bind-address=127.0.0.1:${network.proxyMetricsPort}`,
      "--conntrack-max-per-core=0",
      `--nodeport-addresses=${network.gatewayIp}/32`,
      "--v=1",
    ],
    join(paths.logs, "kube-proxy.log"),
  );
}

/** One HTTP(S) GET; resolves with status and body, or rejects on connection errors. */
export function get(
  url: string,
  tls?: { ca: string; client?: KeyPair },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const opts = tls
      ? {
          ca: readFileSync(tls.ca),
          cert: tls.client ? readFileSync(tls.client.cert) : undefined,
          key: tls.client ? readFileSync(tls.client.key) : undefined,
          timeout: 5000,
        }
      : { timeout: 5000 };
    const req = (url.startsWith("https:") ? httpsRequest : httpRequest)(url, opts, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => {
        body += d.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`timeout fetching ${url}`)));
    req.on("error", reject);
    req.end();
  });
}
