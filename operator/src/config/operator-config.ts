import { randomBytes } from "node:crypto";
import { hostname } from "node:os";

/** Everything the operator process is configured with (flags, then env, then defaults). */
export interface OperatorConfig {
  /** Watch only this namespace; all namespaces when undefined. */
  namespace: string | undefined;
  leaderElect: boolean;
  leaderElectionNamespace: string;
  leaderElectionId: string;
  identity: string;
  metricsBindAddress: { host: string; port: number };
  healthProbeBindAddress: { host: string; port: number };
  trainerImage: string;
  runtimeImage: string;
  /** PVC holding the model store, in each namespace that trains or serves. */
  modelStorePvc: string;
  /** ServiceAccount the trainer pods run as; the operator creates it with no API rights. */
  trainerServiceAccount: string;
  /** Image pull policy for trainer and runtime pods. */
  imagePullPolicy: "Always" | "IfNotPresent" | "Never";
  workers: number;
  logLevel: "debug" | "info" | "error";
  /** Honour the churn.mlops.dev/test-fault annotation (rollback tests only; never in production). */
  allowTestFaults: boolean;
}

const flags: Record<string, { env: string; help: string; def: string | undefined }> = {
  namespace: { env: "WATCH_NAMESPACE", help: "only watch this namespace", def: undefined },
  "leader-elect": { env: "LEADER_ELECT", help: "run Lease leader election", def: "true" },
  "leader-election-namespace": {
    env: "POD_NAMESPACE",
    help: "namespace of the leader Lease",
    def: "churn-operator-system",
  },
  "leader-election-id": { env: "LEADER_ELECTION_ID", help: "Lease name", def: "churn-operator" },
  identity: { env: "POD_NAME", help: "this replica's identity", def: undefined },
  "metrics-bind-address": { env: "METRICS_BIND_ADDRESS", help: "host:port", def: "127.0.0.1:8080" },
  "health-probe-bind-address": {
    env: "HEALTH_PROBE_BIND_ADDRESS",
    help: "host:port",
    def: "127.0.0.1:8081",
  },
  "trainer-image": {
    env: "TRAINER_IMAGE",
    help: "image of the training Jobs",
    def: "churn-operator/trainer:latest",
  },
  "runtime-image": {
    env: "RUNTIME_IMAGE",
    help: "image of the scoring Deployments",
    def: "churn-operator/runtime:latest",
  },
  "model-store-pvc": { env: "MODEL_STORE_PVC", help: "model store PVC name", def: "churn-models" },
  "trainer-service-account": {
    env: "TRAINER_SERVICE_ACCOUNT",
    help: "ServiceAccount of trainer pods",
    def: "churn-trainer",
  },
  "image-pull-policy": { env: "IMAGE_PULL_POLICY", help: "pull policy", def: "IfNotPresent" },
  workers: { env: "WORKERS", help: "concurrent reconciles per controller", def: "2" },
  "log-level": { env: "LOG_LEVEL", help: "debug, info or error", def: "info" },
  "allow-test-faults": {
    env: "ALLOW_TEST_FAULTS",
    help: "let the test-fault annotation make canaries fail (tests only)",
    def: "false",
  },
};

/** Usage text listing every flag with its environment variable and default. */
export function usage(): string {
  const lines = Object.entries(flags).map(
    ([name, f]) => `  --${name.padEnd(28)} ${f.help} (env ${f.env}; default ${f.def ?? "-"})`,
  );
  return `churn-operator [flags]\n${lines.join("\n")}\n`;
}

/** Parses flags (`--name value` or `--name=value`) and env into a validated config. */
export function parseOperatorConfig(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): OperatorConfig {
  const given = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith("--")) throw new Error(`unexpected argument ${JSON.stringify(arg)}`);
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    if (!(name in flags)) throw new Error(`unknown flag --${name}\n${usage()}`);
    let value = eq > 0 ? arg.slice(eq + 1) : argv[i + 1];
    if (eq < 0) {
      if (value === undefined || value.startsWith("--")) {
        throw new Error(`flag --${name} needs a value`);
      }
      i++;
    }
    value = value ?? "";
    given.set(name, value);
  }
  const get = (name: string): string | undefined => {
    const f = flags[name];
    if (!f) throw new Error(`internal: unknown flag ${name}`);
    return given.get(name) ?? (env[f.env] || undefined) ?? f.def;
  };
  const req = (name: string): string => {
    const v = get(name);
    if (!v) throw new Error(`--${name} must not be empty`);
    return v;
  };
  const pullPolicy = req("image-pull-policy");
  if (!["Always", "IfNotPresent", "Never"].includes(pullPolicy)) {
    throw new Error(`--image-pull-policy must be Always, IfNotPresent or Never, got ${pullPolicy}`);
  }
  const logLevel = req("log-level");
  if (!["debug", "info", "error"].includes(logLevel)) {
    throw new Error(`--log-level must be debug, info or error, got ${logLevel}`);
  }
  const workers = Number(req("workers"));
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
    throw new Error(`--workers must be an integer in 1..64, got ${get("workers")}`);
  }
  const bool = (name: string) => {
    const v = req(name);
    if (v !== "true" && v !== "false") throw new Error(`--${name} must be true or false, got ${v}`);
    return v === "true";
  };
  return {
    namespace: get("namespace"),
    leaderElect: bool("leader-elect"),
    leaderElectionNamespace: req("leader-election-namespace"),
    leaderElectionId: req("leader-election-id"),
    identity: get("identity") ?? `${hostname()}_${randomBytes(4).toString("hex")}`,
    metricsBindAddress: hostPort("metrics-bind-address", req("metrics-bind-address")),
    healthProbeBindAddress: hostPort("health-probe-bind-address", req("health-probe-bind-address")),
    trainerImage: req("trainer-image"),
    runtimeImage: req("runtime-image"),
    modelStorePvc: req("model-store-pvc"),
    trainerServiceAccount: req("trainer-service-account"),
    imagePullPolicy: pullPolicy as OperatorConfig["imagePullPolicy"],
    workers,
    logLevel: logLevel as OperatorConfig["logLevel"],
    allowTestFaults: bool("allow-test-faults"),
  };
}

function hostPort(flag: string, value: string): { host: string; port: number } {
  const i = value.lastIndexOf(":");
  const host = i > 0 ? value.slice(0, i) : "0.0.0.0";
  const port = Number(value.slice(i + 1));
  if (i < 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--${flag} must be host:port or :port, got ${JSON.stringify(value)}`);
  }
  return { host, port };
}
