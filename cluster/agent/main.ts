// The process node agent: `tsx cluster/agent/main.ts <agent.json>`. Started and stopped by
// the cluster launcher (cluster/cluster.ts); wiring only.
import { KubeConfig } from "@kubernetes/client-node";
import { loadAgentConfig } from "./agent-config.js";
import { forwardApiserver } from "./apiserver-forwarder.js";
import { ClusterDns } from "./cluster-dns.js";
import { loadImageMap } from "./image-map.js";
import { startKubeletServer } from "./kubelet-server.js";
import { LocalPathProvisioner } from "./local-path-provisioner.js";
import { NodeAgent } from "./node-agent.js";

const file = process.argv[2];
if (!file) {
  process.stderr.write("usage: main.ts <agent-config.json>\n");
  process.exit(2);
}
const config = loadAgentConfig(file);
const forwarder = await forwardApiserver(
  { host: config.gatewayIp, port: config.apiserver.port },
  config.apiserver,
);
const kubelet = await startKubeletServer({
  host: config.gatewayIp,
  port: config.kubelet.port,
  cert: config.kubelet.cert,
  key: config.kubelet.key,
  clientCa: config.kubelet.ca,
  podsDir: config.podsDir,
});
const dnsKc = new KubeConfig();
dnsKc.loadFromFile(config.dns.kubeconfig);
const dns = new ClusterDns(dnsKc, (m) => process.stderr.write(`[dns] ${m}\n`));
await dns.listen(config.gatewayIp, 53);
const agents = config.nodes.map((n) => {
  const kc = new KubeConfig();
  kc.loadFromFile(n.kubeconfig);
  return new NodeAgent({
    name: n.name,
    podCidr: n.podCidr,
    kubeconfig: kc,
    kubernetesVersion: config.kubernetesVersion,
    kubeletPort: config.kubelet.port,
    base: {
      hostIp: config.gatewayIp,
      podsDir: config.podsDir,
      createdMountPoints: config.createdMountPoints,
      network: {
        netnsPrefix: config.netnsPrefix,
        vethPrefix: config.vethPrefix,
        bridge: config.bridge,
        gatewayIp: config.gatewayIp,
        prefixLength: config.prefixLength,
      },
      apiserverForPods: config.apiserverForPods,
      imageMap: () => loadImageMap(config.repoRoot, config.imagesFile),
      backoff: config.backoff,
      dnsServer: config.gatewayIp,
    },
  });
});
await Promise.all(agents.map((a) => a.start()));
const provisionerKc = new KubeConfig();
provisionerKc.loadFromFile(config.provisioner.kubeconfig);
const provisioner = new LocalPathProvisioner(provisionerKc, config.provisioner.volumesDir, (m) =>
  process.stderr.write(`[provisioner] ${m}\n`),
);
provisioner.start();

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`[agent] ${signal}: stopping pods\n`);
  provisioner.stop();
  forwarder.close();
  dns.close();
  kubelet.close();
  await Promise.all(agents.map((a) => a.stop()));
  process.exit(0);
};
process.on("SIGTERM", () => void stop("SIGTERM"));
process.on("SIGINT", () => void stop("SIGINT"));
