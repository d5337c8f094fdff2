import type {
  KubeConfig,
  V1Deployment,
  V1Job,
  V1Pod,
  V1Service,
  V2HorizontalPodAutoscaler,
} from "@kubernetes/client-node";
import type { ChurnModel } from "./api/churn-model.js";
import type { ScoringRun } from "./api/scoring-run.js";
import type { TrainingRun } from "./api/training-run.js";
import type { OperatorConfig } from "./config/operator-config.js";
import { MetricProviders } from "./controllers/churnmodel/analysis/metric-providers.js";
import { ChurnModelReconciler } from "./controllers/churnmodel/churn-model-controller.js";
import { ScoringRunReconciler } from "./controllers/scoringrun/scoring-run-controller.js";
import { SCHEDULED_BY_LABEL } from "./controllers/scoringrun/scoring-schedule.js";
import {
  churnModelType,
  scoringRunType,
  trainingRunType,
} from "./controllers/shared/custom-resources.js";
import { Labels, managedSelector } from "./controllers/shared/labels.js";
import { TrainingRunReconciler } from "./controllers/trainingrun/training-run-controller.js";
import { Controller } from "./kube/controller.js";
import type { ControllerMetrics } from "./kube/controller-metrics.js";
import { EventRecorder } from "./kube/event-recorder.js";
import { Informer } from "./kube/informer.js";
import { KubeClient } from "./kube/kube-client.js";
import { type KubeObject, objectKey } from "./kube/kube-object.js";
import { LeaderElector } from "./kube/leader-election.js";
import type { Logger } from "./kube/logger.js";
import { ProbeServer } from "./kube/probe-server.js";
import type { ReconcileResult } from "./kube/reconcile-result.js";
import type { ResourceType } from "./kube/resource-type.js";
import { Resources } from "./kube/resources.js";
import { operatorMetrics } from "./operator-metrics.js";

/** A running operator: its bound ports and a way to stop it. */
export interface RunningOperator {
  metricsPort: number;
  healthPort: number;
  /** Resolves when leadership is lost (the process should exit) or stop() ran. */
  done: Promise<"stopped" | "lost-leadership">;
  stop(): Promise<void>;
  isLeader(): boolean;
}

/** The caches the controllers read, started together. */
interface Caches {
  runs: Informer<TrainingRun>;
  models: Informer<ChurnModel>;
  scoringRuns: Informer<ScoringRun>;
  jobs: Informer<V1Job>;
  pods: Informer<V1Pod>;
  deployments: Informer<V1Deployment>;
  services: Informer<V1Service>;
  autoscalers: Informer<V2HorizontalPodAutoscaler>;
  all: Informer<KubeObject>[];
}

/** Everything one operator process is made of. */
interface Parts {
  config: OperatorConfig;
  log: Logger;
  client: KubeClient;
  metrics: ControllerMetrics;
  caches: Caches;
  trainingRuns: TrainingRunReconciler;
  churnModels: ChurnModelReconciler;
  scoringRuns: ScoringRunReconciler;
  controllers: { trainingRun: Controller; churnModel: Controller; scoringRun: Controller };
}

/**
 * Assembles and starts the operator: informers (started at once, so a standby has a warm
 * cache and is ready), three controllers whose workers run only while this replica leads,
 * leader election, and the probe and metrics servers.
 */
export async function startOperator(
  config: OperatorConfig,
  kubeConfig: KubeConfig,
  log: Logger,
): Promise<RunningOperator> {
  const parts = assemble(config, kubeConfig, log);
  routeEvents(parts);
  const servers = await startServers(parts);
  for (const i of parts.caches.all) i.start();
  return lead(parts, servers);
}

function createCaches(client: KubeClient, log: Logger, namespace?: string): Caches {
  const inf = <T extends KubeObject>(type: ResourceType, labelSelector?: string) =>
    new Informer<T>(client, type, log, { namespace, labelSelector });
  const c = {
    runs: inf<TrainingRun>(trainingRunType),
    models: inf<ChurnModel>(churnModelType),
    scoringRuns: inf<ScoringRun>(scoringRunType),
    jobs: inf<V1Job>(Resources.jobs, managedSelector),
    pods: inf<V1Pod>(Resources.pods, managedSelector),
    deployments: inf<V1Deployment>(Resources.deployments, managedSelector),
    services: inf<V1Service>(Resources.services, managedSelector),
    autoscalers: inf<V2HorizontalPodAutoscaler>(
      Resources.horizontalPodAutoscalers,
      managedSelector,
    ),
  };
  return { ...c, all: Object.values(c) as Informer<KubeObject>[] };
}

/** Builds the client, caches, reconcilers and controllers (nothing started yet). */
function assemble(config: OperatorConfig, kubeConfig: KubeConfig, log: Logger): Parts {
  const client = new KubeClient(kubeConfig);
  const all = operatorMetrics();
  const metrics = all.controllers;
  const recorder = new EventRecorder(client, "churn-operator", log);
  const caches = createCaches(client, log, config.namespace);
  const { runs, models, jobs, pods, deployments, services, autoscalers } = caches;
  const trainingRuns = new TrainingRunReconciler({
    client,
    runs,
    jobs,
    pods,
    recorder,
    log,
    metrics: all.trainingRuns,
    settings: {
      trainerImage: config.trainerImage,
      modelStorePvc: config.modelStorePvc,
      ...(config.modelStoreS3 ? { modelStoreS3: config.modelStoreS3 } : {}),
      serviceAccount: config.trainerServiceAccount,
      imagePullPolicy: config.imagePullPolicy,
    },
  });
  const providers = new MetricProviders();
  const churnModels = new ChurnModelReconciler({
    client,
    models,
    runs,
    deployments,
    services,
    pods,
    autoscalers,
    recorder,
    log,
    metrics: all.rollouts,
    metricProvider: (p) =>
      providers.for(p.kind === "prometheus" ? { prometheus: { address: p.address } } : {}),
    settings: {
      runtimeImage: config.runtimeImage,
      trainerImage: config.trainerImage,
      imagePullPolicy: config.imagePullPolicy,
      ...(config.modelStoreS3 ? { modelStoreS3: config.modelStoreS3 } : {}),
      allowTestFaults: config.allowTestFaults,
    },
  });
  const scoringRuns = new ScoringRunReconciler({
    client,
    runs: caches.scoringRuns,
    models,
    jobs,
    pods,
    recorder,
    log,
    metrics: all.scoringRuns,
    settings: {
      runtimeImage: config.runtimeImage,
      trainerImage: config.trainerImage,
      imagePullPolicy: config.imagePullPolicy,
      modelStorePvc: config.modelStorePvc,
      ...(config.modelStoreS3 ? { modelStoreS3: config.modelStoreS3 } : {}),
    },
  });
  const controller = (name: string, reconcile: (key: string) => Promise<ReconcileResult>) =>
    new Controller({ name, reconcile, workers: config.workers, metrics, log });
  metrics.trackRemembered("trainingrun", () => trainingRuns.remembered);
  metrics.trackRemembered("churnmodel", () => churnModels.remembered);
  metrics.trackRemembered("scoringrun", () => scoringRuns.remembered);
  return {
    config,
    log,
    client,
    metrics,
    caches,
    trainingRuns,
    churnModels,
    scoringRuns,
    controllers: {
      trainingRun: controller("trainingrun", (k) => trainingRuns.reconcile(k)),
      churnModel: controller("churnmodel", (k) => churnModels.reconcile(k)),
      scoringRun: controller("scoringrun", (k) => scoringRuns.reconcile(k)),
    },
  };
}

/** Turns cache events into work-queue keys, and forgets deleted objects' state. */
function routeEvents(parts: Parts): void {
  const { caches, trainingRuns, churnModels, controllers } = parts;
  const { trainingRun: trController, churnModel: chmController } = controllers;
  const onRun = (r: TrainingRun) => {
    trController.enqueue(objectKey(r));
    for (const k of churnModels.modelsAffectedBy(r)) chmController.enqueue(k);
  };
  caches.runs.on({
    add: onRun,
    update: onRun,
    delete: (r) => {
      trainingRuns.forget(r);
      onRun(r);
    },
  });
  const onModel = (m: ChurnModel) => {
    chmController.enqueue(objectKey(m));
    for (const k of parts.scoringRuns.runsWaitingFor(m)) controllers.scoringRun.enqueue(k);
  };
  caches.models.on({
    add: onModel,
    update: onModel,
    delete: (m) => {
      churnModels.forget(m);
      onModel(m);
    },
  });
  const byLabel = (label: string, ctl: Controller) => (o: KubeObject) => {
    const owner = o.metadata?.labels?.[label];
    if (owner && o.metadata?.namespace) ctl.enqueue(`${o.metadata.namespace}/${owner}`);
  };
  for (const [informer, label, ctl] of [
    [caches.jobs, Labels.trainingRun, trController],
    [caches.pods, Labels.trainingRun, trController],
    [caches.deployments, Labels.churnModel, chmController],
    [caches.services, Labels.churnModel, chmController],
    [caches.jobs, Labels.scoringRun, controllers.scoringRun],
    [caches.pods, Labels.scoringRun, controllers.scoringRun],
  ] as const) {
    const h = byLabel(label, ctl);
    (informer as Informer<KubeObject>).on({ add: h, update: h, delete: h });
  }
  routeScoringRuns(parts);
}

/** ScoringRun events go to its controller; a deleted run's state is forgotten. */
function routeScoringRuns({ caches, scoringRuns, controllers }: Parts): void {
  const onRun = (r: ScoringRun) => {
    controllers.scoringRun.enqueue(objectKey(r));
    // A scheduled run's changes concern its schedule too (pruning finished runs).
    const template = r.metadata?.labels?.[SCHEDULED_BY_LABEL];
    if (template) controllers.scoringRun.enqueue(`${r.metadata?.namespace}/${template}`);
  };
  caches.scoringRuns.on({
    add: onRun,
    update: onRun,
    delete: (r) => {
      scoringRuns.forget(r);
      onRun(r);
    },
  });
}

interface Servers {
  health: ProbeServer;
  metrics: ProbeServer;
  healthPort: number;
  metricsPort: number;
}

/** The probe server (ready once every cache has synced) and the metrics server. */
async function startServers({ config, caches, metrics }: Parts): Promise<Servers> {
  const health = new ProbeServer({
    ...config.healthProbeBindAddress,
    healthz: { ping: () => undefined },
    readyz: {
      informers: () => {
        const pending = caches.all.filter((i) => !i.hasSynced).map((i) => i.type.plural);
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
  return {
    health,
    metrics: metricsServer,
    healthPort: await health.listen(),
    metricsPort: await metricsServer.listen(),
  };
}

/** Runs the controllers while this replica leads (always, without leader election). */
function lead(parts: Parts, servers: Servers): RunningOperator {
  const { config, client, log, metrics, caches, controllers } = parts;
  const startControllers = async () => {
    await Promise.all(caches.all.map((i) => i.waitForSync()));
    for (const c of Object.values(controllers)) c.start();
    log.info("controllers started", { namespace: config.namespace ?? "(all)" });
  };
  let resolveDone: (v: "stopped" | "lost-leadership") => void = () => {};
  const done = new Promise<"stopped" | "lost-leadership">((r) => {
    resolveDone = r;
  });
  let elector: LeaderElector | undefined;
  let leading = !config.leaderElect;
  if (config.leaderElect) {
    const lease = config.leaderElectionId;
    elector = new LeaderElector(
      client,
      { namespace: config.leaderElectionNamespace, name: lease, identity: config.identity },
      log,
    );
    metrics.setLeader(lease, false);
    void elector.run(
      () => {
        leading = true;
        metrics.setLeader(lease, true);
        void startControllers();
      },
      () => {
        leading = false;
        metrics.setLeader(lease, false);
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
      await Promise.all(Object.values(controllers).map((c) => c.stop()));
      await elector?.stop();
      leading = false;
      await Promise.all(caches.all.map((i) => i.stop()));
      await Promise.all([servers.health.close(), servers.metrics.close()]);
      resolveDone("stopped");
    })();
    return stopping;
  };
  return {
    metricsPort: servers.metricsPort,
    healthPort: servers.healthPort,
    done,
    stop,
    isLeader: () => leading,
  };
}
