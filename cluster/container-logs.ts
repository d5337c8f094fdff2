import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { clusterPaths } from "./cluster-layout.js";

/** Directory of a pod's files on the process node: `<pods>/<namespace>_<name>_<uid>`. */
function podDirs(namespace: string, pod: string): string[] {
  const dir = clusterPaths().pods;
  if (!existsSync(dir)) return [];
  const prefix = `${namespace}_${pod}_`;
  return readdirSync(dir)
    .filter((d) => d.startsWith(prefix))
    .map((d) => join(dir, d));
}

/**
 * A container's log on the local cluster, like `kubectl logs` (`previous` gives the attempt
 * before the current one). Returns "" when the container has not logged yet.
 */
export function readContainerLog(
  namespace: string,
  pod: string,
  container: string,
  opts: { previous?: boolean } = {},
): string {
  for (const dir of podDirs(namespace, pod).reverse()) {
    const logs = join(dir, "logs", container);
    if (!existsSync(logs)) continue;
    const attempts = readdirSync(logs)
      .map((f) => Number(f.replace(/\.log$/, "")))
      .filter((n) => Number.isInteger(n))
      .sort((a, b) => a - b);
    const n = attempts[attempts.length - (opts.previous ? 2 : 1)];
    if (n === undefined) return "";
    return readFileSync(join(logs, `${n}.log`), "utf8");
  }
  return "";
}

/** Pid of a container's current process on the local cluster, or null when it has none. */
export function containerPid(namespace: string, pod: string, container: string): number | null {
  for (const dir of podDirs(namespace, pod).reverse()) {
    const file = join(dir, "containers", container, "pid");
    if (!existsSync(file)) continue;
    const pid = Number(readFileSync(file, "utf8"));
    return pid > 0 ? pid : null;
  }
  return null;
}
