import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { type S3ModelStore, s3ModelStoreOf } from "./s3-model-store.js";

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
  /**
   * The S3 model store (`--model-store s3://bucket/prefix/`) trainers publish to instead of the
   * PVC, with its endpoint, region and credentials Secret; undefined: the PVC store.
   */
  modelStoreS3: S3ModelStore | undefined;
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
  "model-store": {
    env: "MODEL_STORE",
    help: "s3://bucket/prefix/: publish trained models to S3 instead of the PVC",
    def: undefined,
  },
  "model-store-secret": {
    env: "MODEL_STORE_SECRET",
    help: "Secret (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) of the S3 model store, per namespace",
    def: undefined,
  },
  "model-store-endpoint": {
    env: "MODEL_STORE_ENDPOINT",
    help: "URL of the S3-compatible server of the model store (default: AWS S3)",
    def: undefined,
  },
  "model-store-region": {
    env: "MODEL_STORE_REGION",
    help: "region of the S3 model store",
    def: undefined,
  },
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
  const given = readFlags(argv);
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
  const pullPolicy = oneOf("image-pull-policy", req("image-pull-policy"), PULL_POLICIES);
  const logLevel = oneOf("log-level", req("log-level"), LOG_LEVELS);
  const workers = Number(req("workers"));
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
    throw new Error(`--workers must be an integer in 1..64, got ${get("workers")}`);
  }
  const bool = (name: string) => oneOf(name, req(name), ["true", "false"] as const) === "true";
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
    modelStoreS3: s3ModelStoreOf({
      uri: get("model-store"),
      credentialsSecret: get("model-store-secret"),
      endpoint: get("model-store-endpoint"),
      region: get("model-store-region"),
    }),
    trainerServiceAccount: req("trainer-service-account"),
    imagePullPolicy: pullPolicy,
    workers,
    logLevel,
    allowTestFaults: bool("allow-test-faults"),
  };
}

const PULL_POLICIES = ["Always", "IfNotPresent", "Never"] as const;
const LOG_LEVELS = ["debug", "info", "error"] as const;

/** The flags given on the command line, by name; throws on unknown flags and missing values. */
function readFlags(argv: readonly string[]): Map<string, string> {
  const given = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith("--")) throw new Error(`unexpected argument ${JSON.stringify(arg)}`);
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    if (!(name in flags)) throw new Error(`unknown flag --${name}\n${usage()}`);
    if (eq > 0) {
      given.set(name, arg.slice(eq + 1));
      continue;
    }
    const value = argv[i + 1];
    if (value === undefined || value.startsWith("--"))
      throw new Error(`flag --${name} needs a value`);
    given.set(name, value);
    i++;
  }
  return given;
}

/** `value` when it is one of `allowed`; else an error naming them ("A, B or C"). */
function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  const list = `${allowed.slice(0, -1).join(", ")} or ${allowed.at(-1)}`;
  throw new Error(`--${flag} must be ${list}, got ${value}`);
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
