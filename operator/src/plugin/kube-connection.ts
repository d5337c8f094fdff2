// The user's cluster, the way kubectl finds it: --kubeconfig, else $KUBECONFIG (a list of files,
// merged), else ~/.kube/config; --context, else the current context; -n, else the context's
// namespace, else "default".
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { KubeApiError } from "../kube/kube-api-error.js";
import { KubeClient } from "../kube/kube-client.js";
import { PluginError } from "./plugin-error.js";

/** Where the plugin talks to. */
export interface KubeConnection {
  client: KubeClient;
  namespace: string;
  /** The API server's URL, for error messages. */
  server: string;
}

/** Which kubeconfig, context and namespace the user asked for. */
export interface ConnectionFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

/** Loads the kubeconfig and picks context and namespace; errors say what to fix. */
export function connect(
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv = process.env,
  home: string = homedir(),
): KubeConnection {
  const kc = loadKubeConfig(flags.kubeconfig, env, home);
  if (flags.context) {
    if (!kc.getContextObject(flags.context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new PluginError(
        `context "${flags.context}" is not in the kubeconfig${known.length ? ` (contexts: ${known.join(", ")})` : ""}`,
      );
    }
    kc.setCurrentContext(flags.context);
  }
  const current = kc.getContextObject(kc.getCurrentContext());
  if (!current) throw new PluginError("the kubeconfig has no current context: pass --context");
  const cluster = kc.getCurrentCluster();
  if (!cluster)
    throw new PluginError(`context "${current.name}" names no cluster in the kubeconfig`);
  return {
    client: new KubeClient(kc),
    namespace: flags.namespace || current.namespace || "default",
    server: cluster.server,
  };
}

function loadKubeConfig(file: string | undefined, env: NodeJS.ProcessEnv, home: string) {
  const kc = new KubeConfig();
  const files = file ? [file] : (env.KUBECONFIG ?? "").split(delimiter).filter(Boolean);
  if (!files.length) {
    const standard = join(home, ".kube", "config");
    if (existsSync(standard)) files.push(standard);
    else if (env.KUBERNETES_SERVICE_HOST) {
      kc.loadFromCluster();
      return kc;
    } else
      throw new PluginError(
        "no kubeconfig: pass --kubeconfig, set KUBECONFIG, or create ~/.kube/config",
      );
  }
  for (const [i, f] of files.entries()) {
    const next = i === 0 ? kc : new KubeConfig();
    try {
      next.loadFromFile(f);
    } catch (err) {
      throw new PluginError(`cannot read the kubeconfig ${f}: ${(err as Error).message}`);
    }
    if (next !== kc) mergeFirstWins(kc, next);
  }
  return kc;
}

/**
 * Merges as kubectl does: the first file to set a name (or the current context) wins.
 * client-node's mergeConfig throws on a repeated name instead.
 */
function mergeFirstWins(into: KubeConfig, from: KubeConfig): void {
  for (const c of from.getClusters()) if (!into.getCluster(c.name)) into.addCluster(c);
  for (const u of from.getUsers()) if (!into.getUser(u.name)) into.addUser(u);
  for (const c of from.getContexts()) if (!into.getContextObject(c.name)) into.addContext(c);
  if (!into.getCurrentContext() && from.getCurrentContext())
    into.setCurrentContext(from.getCurrentContext());
}

/** A Kubernetes API failure as a user-facing error (unreachable server, forbidden, ...). */
export function apiFailure(err: unknown, conn: Pick<KubeConnection, "server">): unknown {
  if (!(err instanceof KubeApiError)) return err;
  if (err.statusCode === 0)
    return new PluginError(`cannot reach the Kubernetes API at ${conn.server}: ${err.message}`);
  if (err.statusCode === 401)
    return new PluginError(`the Kubernetes API at ${conn.server} refused the credentials`);
  if (err.statusCode === 403) return new PluginError(`forbidden: ${err.message}`);
  return new PluginError(err.message);
}
