import { KubeConfig } from "@kubernetes/client-node";
import { parseOperatorConfig, usage } from "./config/operator-config.js";
import { createLogger } from "./kube/logger.js";
import { startOperator } from "./manager.js";

// Wiring only: parse flags, load the kubeconfig, start, stop on signals.
const argv = process.argv.slice(2);
if (argv.includes("--help") || argv.includes("-h")) {
  process.stdout.write(usage());
  process.exit(0);
}
let config: ReturnType<typeof parseOperatorConfig>;
try {
  config = parseOperatorConfig(argv);
} catch (err) {
  process.stderr.write(`churn-operator: ${(err as Error).message}\n`);
  process.exit(2);
}
const log = createLogger(config.logLevel, { identity: config.identity });
const kubeConfig = new KubeConfig();
try {
  kubeConfig.loadFromDefault();
} catch (err) {
  log.error("cannot load the kubeconfig", { error: (err as Error).message });
  process.exit(2);
}
const operator = await startOperator(config, kubeConfig, log);
log.info("operator started", {
  healthPort: operator.healthPort,
  metricsPort: operator.metricsPort,
  leaderElect: config.leaderElect,
});
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    void operator.stop().then(() => process.exit(0));
  });
}
const how = await operator.done;
if (how === "lost-leadership") {
  // As controller-runtime does: a replica that lost its lease exits and restarts clean.
  log.error("lost leadership, exiting");
  await operator.stop();
  process.exit(1);
}
