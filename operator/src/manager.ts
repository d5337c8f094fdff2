import type { KubeConfig, V1Deployment, V1Job, V1Pod, V1Service } from "@kubernetes/client-node";
import type { ChurnModel } from "./api/churn-model.js";
import type { TrainingRun } from "./api/training-run.js";
import type { OperatorConfig } from "./config/operator-config.js";
import { ChurnModelReconciler } from "./controllers/churnmodel/churn-model-controller.js";
import { churnModelType, trainingRunType } from "./controllers/shared/custom-resources.js";
import { Labels, managedSelector } from "./controllers/shared/labels.js";
import { TrainingRunReconciler } from "./controllers/trainingrun/training-run-controller.js";
import { TrainingRunMetrics } from "./controllers/trainingrun/training-run-metrics.js";
import { Controller } from "./kube/controller.js";
import { ControllerMetrics } from "./kube/controller-metrics.js";
import { EventRecorder } from "./kube/event-recorder.js";
import { Informer } from "./kube/informer.js";
import { KubeClient } from "./kube/kube-client.js";
import { type KubeObject, objectKey } from "./kube/kube-object.js";
import { LeaderElector } from "./kube/leader-election.js";
import type { Logger } from "./kube/logger.js";
import { ProbeServer } from "./kube/probe-server.js";
import { Resources } from "./kube/resources.js";

/** A running operator: its bound ports and a way to stop it. */
export interface RunningOperator {
  metricsPort: number;
  healthPort: number;
  /** Resolves when leadership is lost (the process should exit) or stop() ran. */
  done: Promise<"stopped" | "lost-leadership">;
  stop(): Promise<void>;
  isLeader(): boolean;
}

/**
 * Assembles and starts the operator: informers (started at once, so a standby has a warm
 * cache and is ready), two controllers whose workers run only while this replica leads,
 * leader election, and the probe and metrics servers.
 */
export async function startOperator(
  config: OperatorConfig,
  kubeConfig: KubeConfig,
  log: Logger,
): Promise<RunningOperator> {
  const client = new KubeClient(kubeConfig);
  const metrics = new ControllerMetrics({ processMetrics: true });
  const recorder = new EventRecorder(client, "churn-operator", log);
  const ns = config.namespace;
  const inf = <T extends KubeObject>(type: typeof trainingRunType, labelSelector?: string) =>
    new Informer<T>(client, type, log, { namespace: ns, labelSelector });

  const runs = inf<TrainingRun>(trainingRunType);
  const models = inf<ChurnModel>(churnModelType);
  const jobs = inf<V1Job>(Resources.jobs, managedSelector);
  const pods = inf<V1Pod>(Resources.pods, managedSelector);
  const deployments = inf<V1Deployment>(Resources.deployments, managedSelector);
  const services = inf<V1Service>(Resources.services, managedSelector);
  const informers = [runs, models, jobs, pods, deployments, services] as Informer<KubeObject>[];

  const trainingRuns = new TrainingRunReconciler({
    client,
    runs,
    jobs,
    pods,
    recorder,
    log,
    metrics: new TrainingRunMetrics(metrics.registry),
    settings: {
      trainerImage: config.trainerImage,
      modelStorePvc: config.modelStorePvc,
      serviceAccount: config.trainerServiceAccount,
      imagePullPolicy: config.imagePullPolicy,
    },
  });
  const churnModels = new ChurnModelReconciler({
    client,
    models,
    runs,
    deployments,
    services,
    recorder,
    log,
    settings: { runtimeImage: config.runtimeImage, imagePullPolicy: config.imagePullPolicy },
  });
  const trController = new Controller({
    name: "trainingrun",
    reconcile: (k) => trainingRuns.reconcile(k),
    workers: config.workers,
    metrics,
    log,
  });
  const chmController = new Controller({
    name: "churnmodel",
    reconcile: (k) => churnModels.reconcile(k),
    workers: config.workers,
    metrics,
    log,
  });

  const byLabel = (label: string, ctl: Controller) => (o: KubeObject) => {
    const owner = o.metadata?.labels?.[label];
    if (owner && o.metadata?.namespace) ctl.enqueue(`${o.metadata.namespace}/${owner}`);
  };
  const onRun = (r: TrainingRun) => {
    trController.enqueue(objectKey(r));
    for (const k of churnModels.modelsAffectedBy(r)) chmController.enqueue(k);
  };
  runs.on({ add: onRun, update: onRun, delete: onRun });
  const onModel = (m: ChurnModel) => chmController.enqueue(objectKey(m));
  models.on({ add: onModel, update: onModel, delete: onModel });
  for (const [informer, label, ctl] of [
    [jobs, Labels.trainingRun, trController],
    [pods, Labels.trainingRun, trController],
    [deployments, Labels.churnModel, chmController],
    [services, Labels.churnModel, chmController],
  ] as const) {
    const h = byLabel(label, ctl);
    (informer as Informer<KubeObject>).on({ add: h, update: h, delete: h });
  }

  const health = new ProbeServer({
    ...config.healthProbeBindAddress,
    healthz: { ping: () => undefined },
    readyz: {
      informers: () => {
        const pending = informers.filter((i) => !i.hasSynced).map((i) => i.type.plural);
        return pending.length ? `caches not synced: ${pending.join(", ")}` : undefined;
      },
    },
  });
  const metricsServer = new ProbeServer({
    ...config.metricsBindAddress,
    healthz: {},
    readyz: {},
    registry: metrics.registry,
  });
  const healthPort = await health.listen();
  const metricsPort = await metricsServer.listen();

  for (const i of informers) i.start();
  const startControllers = async () => {
    await Promise.all(informers.map((i) => i.waitForSync()));
    trController.start();
    chmController.start();
    log.info("controllers started", { namespace: ns ?? "(all)" });
  };

  let resolveDone: (v: "stopped" | "lost-leadership") => void = () => {};
  const done = new Promise<"stopped" | "lost-leadership">((r) => {
    resolveDone = r;
  });
  let elector: LeaderElector | undefined;
  let leading = !config.leaderElect;
  if (config.leaderElect) {
    elector = new LeaderElector(
      client,
      {
        namespace: config.leaderElectionNamespace,
        name: config.leaderElectionId,
        identity: config.identity,
      },
      log,
    );
    metrics.setLeader(config.leaderElectionId, false);
    void elector.run(
      () => {
        leading = true;
        metrics.setLeader(config.leaderElectionId, true);
        void startControllers();
      },
      () => {
        leading = false;
        metrics.setLeader(config.leaderElectionId, false);
        resolveDone("lost-leadership");
      },
    );
  } else {
    void startControllers();
  }

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      log.info("shutting down");
      await Promise.all([trController.stop(), chmController.stop()]);
      await elector?.stop();
      leading = false;
      await Promise.all(informers.map((i) => i.stop()));
      await Promise.all([health.close(), metricsServer.close()]);
      resolveDone("stopped");
    })();
    return stopping;
  };
  return { metricsPort, healthPort, done, stop, isLeader: () => leading };
}
