import { readFileSync } from "node:fs";
import { z } from "zod";

/** The agent's configuration file, written by the cluster launcher (`.cluster/agent.json`). */
export const agentConfigSchema = z.strictObject({
  repoRoot: z.string(),
  podsDir: z.string(),
  imagesFile: z.string(),
  createdMountPoints: z.string(),
  kubernetesVersion: z.string(),
  bridge: z.string(),
  gatewayIp: z.string(),
  prefixLength: z.number().int().min(8).max(30),
  netnsPrefix: z.string(),
  vethPrefix: z.string(),
  apiserver: z.strictObject({ host: z.string(), port: z.number().int() }),
  /** Where pods are told the apiserver is (the `kubernetes` Service, or the gateway). */
  apiserverForPods: z.strictObject({ host: z.string(), port: z.number().int() }),
  /** The kubelet endpoint (`kubectl logs`) the apiserver reaches at the gateway address. */
  kubelet: z.strictObject({
    port: z.number().int(),
    cert: z.string(),
    key: z.string(),
    ca: z.string(),
  }),
  /** Dynamic provisioning: where volumes live and the provisioner's own kubeconfig. */
  provisioner: z.strictObject({ volumesDir: z.string(), kubeconfig: z.string() }),
  /** Cluster DNS on the gateway address, with its own read-only identity. */
  dns: z.strictObject({ kubeconfig: z.string() }),
  backoff: z.strictObject({ initialMs: z.number().int().min(0), maxMs: z.number().int().min(0) }),
  nodes: z
    .array(z.strictObject({ name: z.string(), podCidr: z.string(), kubeconfig: z.string() }))
    .min(1),
});

export type AgentConfig = z.infer<typeof agentConfigSchema>;

/** Reads and validates the agent configuration file. */
export function loadAgentConfig(file: string): AgentConfig {
  const parsed = agentConfigSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
  if (!parsed.success)
    throw new Error(`invalid agent config ${file}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
