import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ClusterInfo, clusterOwner, startCluster, stopCluster } from "./cluster.js";
import { clusterPaths } from "./cluster-layout.js";
import { processAlive, withFileLock } from "./file-lock.js";

const usersDir = () => join(clusterPaths().dir, "users");

/** Processes (other than this one) that still hold a lease on the cluster. */
function otherUsers(): number[] {
  const dir = usersDir();
  mkdirSync(dir, { recursive: true });
  const pids = readdirSync(dir).map(Number);
  for (const pid of pids) {
    if (!processAlive(pid)) rmSync(join(dir, String(pid)), { force: true });
  }
  return pids.filter((pid) => pid !== process.pid && processAlive(pid));
}

/**
 * Takes a lease on the local cluster for this process (a test run): starts it unless a healthy
 * one is running, and records this process as a user, so concurrent runs share one cluster.
 */
export async function acquireCluster(): Promise<ClusterInfo> {
  return withFileLock(clusterPaths().dir, ".lease-lock", async () => {
    const info = await startCluster({ owner: "suite" });
    mkdirSync(usersDir(), { recursive: true });
    writeFileSync(join(usersDir(), String(process.pid)), new Date().toISOString());
    return info;
  });
}

/**
 * Returns this process's lease. The last user of a cluster a test run started stops it; a
 * cluster started by hand (`npm run cluster -- up`) keeps running.
 */
export async function releaseCluster(): Promise<void> {
  await withFileLock(clusterPaths().dir, ".lease-lock", async () => {
    rmSync(join(usersDir(), String(process.pid)), { force: true });
    if (otherUsers().length === 0 && clusterOwner() === "suite") await stopCluster();
  });
}
