import { execFileSync } from "node:child_process";
import { containerPid } from "../container-logs.js";
import type { TestCluster } from "./test-cluster.js";

// Node-level operations the Kubernetes API does not offer (killing a container's process,
// checking it is gone), for the process-node cluster and for kind. Suites call these instead
// of knowing how either one runs containers.

/** Kills a container's main process with SIGKILL, as an OOM kill or crash would. */
export async function killContainerProcess(
  cluster: TestCluster,
  namespace: string,
  pod: string,
  container: string,
): Promise<void> {
  if (cluster.flavour === "process") {
    const pid = containerPid(namespace, pod, container);
    if (!pid) throw new Error(`no running process for ${namespace}/${pod}/${container}`);
    process.kill(-pid, "SIGKILL");
    return;
  }
  // kind: every node is a container named after the node; crictl knows the process.
  const p = await cluster.core.readNamespacedPod({ name: pod, namespace });
  const node = p.spec?.nodeName;
  if (!node) throw new Error(`pod ${namespace}/${pod} is not scheduled`);
  const script = [
    `pod=$(crictl pods -q --name '^${pod}$' --namespace '^${namespace}$' --state ready)`,
    `ctr=$(crictl ps -q --name '^${container}$' --pod "$pod")`,
    `kill -9 $(crictl inspect --output go-template --template '{{.info.pid}}' "$ctr")`,
  ].join(" && ");
  execFileSync("docker", ["exec", node, "sh", "-c", script], { stdio: "inherit" });
}

/** Pid of a container's process where the cluster exposes it (process nodes); else null. */
export function containerProcessId(
  cluster: TestCluster,
  namespace: string,
  pod: string,
  container: string,
): number | null {
  return cluster.flavour === "process" ? containerPid(namespace, pod, container) : null;
}

/** True when a process no longer exists (or has exited and awaits reaping). */
export function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    const stat = execFileSync("cat", [`/proc/${pid}/stat`], { encoding: "utf8" });
    return /\) Z /.test(stat);
  } catch {
    return true;
  }
}

/** A container's log through the API, like `kubectl logs` (`previous`: the attempt before). */
export async function containerLog(
  cluster: TestCluster,
  namespace: string,
  pod: string,
  container: string,
  previous = false,
): Promise<string> {
  return cluster.core.readNamespacedPodLog({ name: pod, namespace, container, previous });
}
