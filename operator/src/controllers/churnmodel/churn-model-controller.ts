import type {
  V1Deployment,
  V1EnvVar,
  V1Pod,
  V1Service,
  V2HorizontalPodAutoscaler,
} from "@kubernetes/client-node";
import type { ChurnModel, ChurnModelStatus } from "../../api/churn-model.js";
import {
  analysisOf,
  autoscalingOf,
  Defaults,
  type ResolvedAnalysis,
  replicasOf,
} from "../../api/defaults.js";
import { FIELD_MANAGER, LABEL_PREFIX, REPLICAS_HANDOVER_MANAGER } from "../../api/group.js";
import { Reasons } from "../../api/reasons.js";
import type { RolloutStatus, VersionRef } from "../../api/rollout.js";
import type { TrainingRun } from "../../api/training-run.js";
import type { EventRecorder } from "../../kube/event-recorder.js";
import type { Informer } from "../../kube/informer.js";
import type { KubeClient } from "../../kube/kube-client.js";
import { splitKey } from "../../kube/kube-object.js";
import type { Logger } from "../../kube/logger.js";
import { type ReconcileResult, TerminalError } from "../../kube/reconcile-result.js";
import type { ResourceType } from "../../kube/resource-type.js";
import { Resources } from "../../kube/resources.js";
import { type ReconcileStep, runSteps, Step } from "../reconcile-steps.js";
import { artifactFetchFailure } from "../shared/artifact-fetch-failure.js";
import { churnModelType } from "../shared/custom-resources.js";
import { Labels } from "../shared/labels.js";
import { mergeConditions, type StatusWrite, StatusWriter } from "../shared/status-writer.js";
import { judge, noMeasurement, type Verdict } from "./analysis/judge.js";
import type { MeasureRequest, MetricProvider, PodRef } from "./analysis/measurements.js";
import { buildAutoscaler } from "./build-autoscaler.js";
import {
  buildRouterDeployment,
  buildRouterRole,
  buildRouterRoleBinding,
  buildRouterServiceAccount,
  buildTrafficConfigMap,
  buildVersionServices,
  routerReplicas,
  trafficConfig,
} from "./build-router.js";
import { buildServingDeployment, type ServingSettings } from "./build-serving-deployment.js";
import { buildServingService } from "./build-serving-service.js";
import { decideRollout, type RolloutAction, type RolloutDecision } from "./decide-rollout.js";
import { autoscaledVariants, desiredVariants, type Variant } from "./desired-variants.js";
import { resolveSource, type SourceResolution } from "./resolve-source.js";
import type { RolloutMetrics } from "./rollout-metrics.js";
import {
  routerName,
  servingEndpoint,
  trafficConfigMapName,
  versionDeploymentName,
  versionLabel,
} from "./serving-names.js";
import { decideServingStatus, type ServingDecision } from "./serving-status.js";

/** Annotations for manual rollout control (what `kubectl churn` writes). */
export const RolloutAnnotations = {
  action: `${LABEL_PREFIX}/rollout-action`,
  actionId: `${LABEL_PREFIX}/rollout-action-id`,
  /** Test-only: a fault the canary's runtime injects; honoured only with --allow-test-faults. */
  testFault: `${LABEL_PREFIX}/test-fault`,
} as const;

/** What the ChurnModel controller needs from the process. */
export interface ChurnModelControllerDeps {
  client: KubeClient;
  models: Informer<ChurnModel>;
  runs: Informer<TrainingRun>;
  deployments: Informer<V1Deployment>;
  services: Informer<V1Service>;
  pods: Informer<V1Pod>;
  /** The serving variants' HorizontalPodAutoscalers (spec.autoscaling). */
  autoscalers: Informer<V2HorizontalPodAutoscaler>;
  recorder: EventRecorder;
  settings: ServingSettings & { allowTestFaults?: boolean };
  /** Rollout metrics (phase, weight, step, outcomes, verdicts). */
  metrics?: RolloutMetrics;
  /** The analysis metric source for a provider setting. */
  metricProvider: (p: ResolvedAnalysis["provider"]) => MetricProvider;
  log: Logger;
  now?: () => Date;
}

type Routing = "router" | "replicas" | "direct";

interface Pass {
  model: ChurnModel;
  namespace: string;
  now: Date;
  routing: Routing;
  analysis: ResolvedAnalysis;
  resolution?: SourceResolution;
  decision?: RolloutDecision;
  variants: Variant[];
}

/** Pods answering for one version: Ready ones with an IP, as scrape targets. */
function readyPods(pods: readonly V1Pod[]): PodRef[] {
  return pods
    .filter((p) => !p.metadata?.deletionTimestamp && p.status?.podIP)
    .filter((p) => p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"))
    .map((p) => ({
      name: p.metadata?.name ?? "",
      ip: p.status?.podIP ?? "",
      port: Defaults.servingPort,
    }));
}

/**
 * Whether a Deployment has rolled out all the pods it asks for (vacuously true at 0). An
 * autoscaled one needs only one: its size moves with load, and a canary whose autoscaler is
 * adding pods must keep its share (its version Service sends requests to Ready pods only).
 */
function deploymentReady(d: V1Deployment | undefined, autoscaled = false): boolean {
  if (!d) return false;
  const want = autoscaled ? Math.min(1, d.spec?.replicas ?? 1) : (d.spec?.replicas ?? 1);
  const st = d.status ?? {};
  return (
    (st.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) && (st.readyReplicas ?? 0) >= want
  );
}

/**
 * Reconciles ChurnModels: source -> rollout decision (stable and canary versions, weights,
 * analysis) -> a Deployment per version, the router and its weights or the replica split, the
 * scoring Service -> status. Server-side applied children owned by the ChurnModel.
 */
export class ChurnModelReconciler {
  private readonly steps: ReconcileStep<Pass>[];
  private readonly status: StatusWriter<ChurnModelStatus>;
  /** Children this process applied, by `<uid>/<kind>/<name>` -> what it applied (the cache lags). */
  private readonly applied = new Map<string, string>();
  /** When analysis last measured each model (the provider's window starts there). */
  private readonly lastMeasured = new Map<string, number>();

  constructor(private readonly deps: ChurnModelControllerDeps) {
    this.status = new StatusWriter(deps.client, churnModelType);
    this.steps = [
      { name: "resolve", run: async (p) => this.resolve(p) },
      { name: "rollout", run: async (p) => this.rollout(p) },
      { name: "deployments", run: async (p) => this.applyDeployments(p) },
      { name: "autoscalers", run: async (p) => this.applyAutoscalers(p) },
      { name: "traffic", run: async (p) => this.applyTraffic(p) },
      { name: "service", run: async (p) => this.applyService(p) },
      { name: "prune", run: async (p) => this.prune(p) },
      { name: "events", run: async (p) => this.recordEvents(p) },
      { name: "status", run: async (p) => this.writeStatus(p) },
    ];
  }

  /** Reconciles the ChurnModel with this key. */
  async reconcile(key: string): Promise<ReconcileResult> {
    const model = this.deps.models.get(key);
    if (!model || model.metadata?.deletionTimestamp) return {};
    const { namespace } = splitKey(key);
    const strategy = model.spec.strategy ?? "canary";
    const pass: Pass = {
      model,
      namespace: namespace ?? "default",
      now: (this.deps.now ?? (() => new Date()))(),
      routing: strategy === "direct" ? "direct" : (model.spec.rollout?.trafficRouting ?? "router"),
      analysis: analysisOf(model.spec.rollout?.analysis),
      variants: [],
    };
    const r = await runSteps(this.steps, pass);
    return r.requeueAfterMs === undefined ? {} : { requeueAfterMs: r.requeueAfterMs };
  }

  /** Forgets what this process remembers of a deleted ChurnModel. */
  forget(model: ChurnModel): void {
    const uid = model.metadata?.uid;
    if (!uid) return;
    this.status.forget(uid);
    this.lastMeasured.delete(uid);
    this.deps.metrics?.forget(model.metadata?.namespace ?? "", model.metadata?.name ?? "");
    for (const k of this.applied.keys()) if (k.startsWith(`${uid}/`)) this.applied.delete(k);
    this.deps
      .metricProvider(analysisOf(model.spec.rollout?.analysis).provider)
      .forget(model.metadata?.namespace ?? "", model.metadata?.name ?? "");
  }

  /** How many ChurnModels this process keeps state for (statuses, applied children). */
  get remembered(): number {
    const uids = new Set<string>(this.lastMeasured.keys());
    for (const k of this.applied.keys()) uids.add(k.split("/")[0] ?? "");
    return Math.max(uids.size, this.status.size);
  }

  /** Keys of the ChurnModels a TrainingRun change may affect (same namespace). */
  modelsAffectedBy(run: TrainingRun): string[] {
    const ns = run.metadata?.namespace;
    return this.deps.models
      .list(ns)
      .filter((m) => {
        const src = m.spec.source;
        return src.latestFrom !== undefined || src.trainingRun?.name === run.metadata?.name;
      })
      .map((m) => `${ns}/${m.metadata?.name}`);
  }

  private async resolve(p: Pass) {
    p.resolution = resolveSource(p.model, this.deps.runs.list(p.namespace));
    return Step.continue;
  }

  /** The rollout as status left it (a model served before rollouts existed starts stable). */
  private previousRollout(p: Pass): RolloutStatus | undefined {
    const s = this.status.baseline(p.model);
    if (s?.rollout) return s.rollout;
    return s?.serving ? { stable: s.serving } : undefined;
  }

  private deployment(p: Pass, v: VersionRef | undefined): V1Deployment | undefined {
    return v
      ? this.deps.deployments.get(`${p.namespace}/${versionDeploymentName(p.model, v.digest)}`)
      : undefined;
  }

  private async rollout(p: Pass) {
    const prev = this.previousRollout(p);
    const res = p.resolution;
    const canaryReady = deploymentReady(
      this.deployment(p, prev?.canary),
      p.model.spec.autoscaling !== undefined,
    );
    const verdict = await this.analyze(p, prev, canaryReady);
    p.decision = decideRollout({
      spec: p.model.spec,
      status: prev,
      desired: res?.state === "resolved" ? res.version : undefined,
      canaryReady,
      verdict,
      action: actionOf(p.model),
      now: p.now,
    });
    const d = p.decision;
    const sizing = {
      replicas: replicasOf(p.model.spec.replicas),
      routing: p.routing,
      // Sized for the step, not for the traffic it gets yet: with replicas routing the Service
      // sends requests only to Ready pods anyway, and an unready canary must still start.
      weight: d.planned.weight,
      mirrorPercent: d.planned.mirrorPercent,
    };
    p.variants = autoscaledVariants(
      desiredVariants(d.stable, d.canary, sizing),
      autoscalingOf(p.model.spec.autoscaling),
      sizing,
      (v) => this.deployment(p, v.version)?.spec?.replicas,
    );
    // A rollout that ended leaves nothing to compare: drop the provider's previous points.
    if (prev?.canary && !d.canary)
      this.deps
        .metricProvider(p.analysis.provider)
        .forget(p.namespace, p.model.metadata?.name ?? "");
    const fault = this.testFault(p);
    for (const v of p.variants) if (v.name === "canary" && fault) v.extraEnv = fault;
    return Step.continue;
  }

  /** Measures and judges the canary when an analysis is due; undefined otherwise. */
  private async analyze(
    p: Pass,
    prev: RolloutStatus | undefined,
    canaryReady: boolean,
  ): Promise<Verdict | undefined> {
    const inFlight =
      prev?.phase === "Progressing" || prev?.phase === "Paused" || prev?.phase === "Inconclusive";
    if (!prev?.canary || !prev.stable || !inFlight || !canaryReady) return undefined;
    const uid = p.model.metadata?.uid ?? "";
    const last = Math.max(
      this.lastMeasured.get(uid) ?? 0,
      prev.analysis?.at ? Date.parse(prev.analysis.at) : 0,
    );
    if (p.now.getTime() - last < p.analysis.intervalSeconds * 1000 - 250) return undefined;
    this.lastMeasured.set(uid, p.now.getTime());
    const provider = this.deps.metricProvider(p.analysis.provider);
    try {
      const m = await provider.measure(this.measureRequest(p, prev.stable, prev.canary));
      // No window: the builtin provider's first scrape only sets the baseline (the next one
      // measures); Prometheus with no series for either variant is a problem to say.
      if (!m && provider.kind === "prometheus")
        return noMeasurement(
          "prometheus has no series for the variants' pods (is it scraping them, with namespace and pod labels?)",
          p.now,
        );
      const verdict = m ? judge(m, p.analysis) : undefined;
      if (verdict) this.deps.metrics?.analysed(verdict.metrics);
      return verdict;
    } catch (err) {
      const why = `${provider.kind} metrics unavailable: ${(err as Error).message}`;
      this.deps.log.info("analysis could not measure", {
        churnModel: p.model.metadata?.name,
        error: why,
      });
      return noMeasurement(why, p.now);
    }
  }

  private measureRequest(p: Pass, stable: VersionRef, canary: VersionRef): MeasureRequest {
    const name = p.model.metadata?.name ?? "";
    const pods = this.deps.pods
      .list(p.namespace)
      .filter((x) => x.metadata?.labels?.[Labels.churnModel] === name);
    const ofVersion = (v: VersionRef) =>
      readyPods(
        pods.filter((x) => x.metadata?.labels?.[Labels.version] === versionLabel(v.digest)),
      );
    const pattern = (v: VersionRef) => `${versionDeploymentName(p.model, v.digest)}-.*`;
    return {
      namespace: p.namespace,
      model: name,
      pods: { stable: ofVersion(stable), canary: ofVersion(canary) },
      routerPods: readyPods(
        pods.filter((x) => x.metadata?.labels?.[Labels.component] === "router"),
      ),
      podPattern: { stable: pattern(stable), canary: pattern(canary) },
      custom: p.analysis.custom.map((c) => ({ name: c.name, query: c.query })),
      intervalSeconds: p.analysis.intervalSeconds,
      now: p.now,
    };
  }

  /** The test-only fault switch for the canary, when this operator was started allowing it. */
  private testFault(p: Pass): V1EnvVar[] | undefined {
    const fault = p.model.metadata?.annotations?.[RolloutAnnotations.testFault];
    if (!fault || !this.deps.settings.allowTestFaults) return undefined;
    return [
      { name: "CHURN_TEST_FAULT", value: fault },
      { name: "CHURN_ALLOW_TEST_FAULTS", value: "true" },
    ];
  }

  /** Server-side applies a child unless this process already applied exactly it. */
  private async applyChild(p: Pass, type: ResourceType, obj: { metadata?: { name?: string } }) {
    const key = `${p.model.metadata?.uid}/${type.plural}/${obj.metadata?.name}`;
    const body = JSON.stringify(obj);
    const cached =
      type.plural === Resources.deployments.plural
        ? this.deps.deployments.get(`${p.namespace}/${obj.metadata?.name}`)
        : type.plural === Resources.services.plural
          ? this.deps.services.get(`${p.namespace}/${obj.metadata?.name}`)
          : undefined;
    const known = this.applied.get(key);
    if (known === body && (cached || !tracked(type))) return false;
    await this.deps.client.apply(type, obj, { fieldManager: FIELD_MANAGER, force: true });
    this.applied.set(key, body);
    return known === undefined && !cached;
  }

  private async applyDeployments(p: Pass) {
    for (const v of p.variants) {
      const d = buildServingDeployment(p.model, v, this.deps.settings);
      const exists = this.deployment(p, v.version) !== undefined;
      // An existing Deployment's size changes hands before the operator stops applying it
      // (else server-side apply would drop the field and reset it to one pod); a new one is
      // created first and then sized.
      if (v.autoscale && exists) await this.handOverReplicas(p, v);
      const created = await this.applyChild(p, Resources.deployments, d);
      if (v.autoscale && !exists) await this.handOverReplicas(p, v);
      if (!v.autoscale) this.applied.delete(this.handoverKey(p, v));
      if (created) {
        await this.deps.recorder.record(
          p.model,
          "Normal",
          Reasons.DeploymentApplied,
          `${v.name} ${d.metadata?.name} serves model ${v.version.digest.slice(0, 12)} (${v.replicas} pods)`,
        );
      }
    }
    return Step.continue;
  }

  /** The HorizontalPodAutoscaler of each autoscaled variant. */
  private async applyAutoscalers(p: Pass) {
    const a = autoscalingOf(p.model.spec.autoscaling);
    if (!a) return Step.continue;
    for (const v of p.variants)
      await this.applyChild(p, Resources.horizontalPodAutoscalers, buildAutoscaler(p.model, v, a));
    return Step.continue;
  }

  private handoverKey(p: Pass, v: Variant): string {
    return `${p.model.metadata?.uid}/handover/${versionDeploymentName(p.model, v.version.digest)}`;
  }

  /**
   * Gives spec.replicas of an autoscaled Deployment to a field manager of its own, set once to
   * the size the variant has now, so the operator's own applies can leave the field out and the
   * HPA's scale updates stand (the Kubernetes docs' "transferring ownership" to an HPA).
   */
  private async handOverReplicas(p: Pass, v: Variant) {
    const key = this.handoverKey(p, v);
    if (this.applied.has(key)) return;
    const scale = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: versionDeploymentName(p.model, v.version.digest), namespace: p.namespace },
      spec: { replicas: v.replicas },
    };
    await this.deps.client.apply(Resources.deployments, scale, {
      fieldManager: REPLICAS_HANDOVER_MANAGER,
      force: true,
    });
    this.applied.set(key, String(v.replicas));
  }

  /** Router mode: per-version Services, the router's identity, its weights, the router. */
  private async applyTraffic(p: Pass) {
    const d = p.decision;
    if (p.routing !== "router" || !d?.stable) return Step.continue;
    for (const v of p.variants)
      for (const svc of buildVersionServices(p.model, v.version.digest))
        await this.applyChild(p, Resources.services, svc);
    await this.applyChild(p, Resources.serviceAccounts, buildRouterServiceAccount(p.model));
    await this.applyChild(p, Resources.roles, buildRouterRole(p.model));
    await this.applyChild(p, Resources.roleBindings, buildRouterRoleBinding(p.model));
    const config = trafficConfig(p.model, d.stable, d.canary, d.weight, d.mirrorPercent);
    await this.applyChild(p, Resources.configMaps, buildTrafficConfigMap(p.model, config));
    await this.applyChild(
      p,
      Resources.deployments,
      buildRouterDeployment(p.model, this.deps.settings),
    );
    return Step.continue;
  }

  private async applyService(p: Pass) {
    if (p.variants.length === 0) return Step.continue;
    const svc = buildServingService(p.model, p.routing === "router");
    const created = await this.applyChild(p, Resources.services, svc);
    if (created) {
      await this.deps.recorder.record(
        p.model,
        "Normal",
        Reasons.ServiceApplied,
        `scoring Service ${servingEndpoint(p.model, Defaults.servingPort)}`,
      );
    }
    return Step.continue;
  }

  /**
   * Removes what no longer serves: a rolled-back canary at once (its weight is already 0), an
   * old stable version only once the new stable one is fully up (promotion drops nothing),
   * and the router when routing changes away from it.
   */
  private async prune(p: Pass) {
    if (p.variants.length === 0) return Step.continue;
    await this.pruneDeployments(p);
    await this.pruneServices(p);
    if (p.routing !== "router") await this.removeRouter(p);
    await this.pruneAutoscalers(p);
    return Step.continue;
  }

  /** Deployments or Services of this ChurnModel (its label and its owner reference). */
  private owned<T extends V1Deployment | V1Service>(p: Pass, list: T[]): T[] {
    const name = p.model.metadata?.name;
    const uid = p.model.metadata?.uid;
    return list
      .filter((o) => o.metadata?.labels?.[Labels.churnModel] === name)
      .filter((o) => o.metadata?.ownerReferences?.some((r) => r.uid === uid));
  }

  /** Version Deployments no longer served (the previous stable once the new one is up). */
  private async pruneDeployments(p: Pass) {
    const stable = p.variants.find((v) => v.name === "stable");
    const stableUp = deploymentReady(this.deployment(p, stable?.version));
    const previousStable = this.previousRollout(p)?.stable?.digest;
    const wanted = new Set(p.variants.map((v) => versionDeploymentName(p.model, v.version.digest)));
    if (p.routing === "router") wanted.add(routerName(p.model));
    for (const d of this.owned(p, this.deps.deployments.list(p.namespace))) {
      const n = d.metadata?.name ?? "";
      if (wanted.has(n)) continue;
      const wasStable =
        previousStable !== undefined && n === versionDeploymentName(p.model, previousStable);
      if (wasStable && !stableUp) continue;
      await this.deps.client.delete(Resources.deployments, p.namespace, n);
      await this.deps.recorder.record(
        p.model,
        "Normal",
        Reasons.VariantRemoved,
        `removed Deployment ${n}`,
      );
    }
  }

  /** Services other than the model's own and, behind the router, the versions' own. */
  private async pruneServices(p: Pass) {
    const services = new Set([p.model.metadata?.name ?? ""]);
    if (p.routing === "router")
      for (const v of p.variants)
        for (const svc of buildVersionServices(p.model, v.version.digest))
          services.add(svc.metadata?.name ?? "");
    for (const s of this.owned(p, this.deps.services.list(p.namespace))) {
      const n = s.metadata?.name ?? "";
      if (services.has(n)) continue;
      await this.deps.client.delete(Resources.services, p.namespace, n);
    }
  }

  /** Removes autoscalers of versions no longer served, or all when autoscaling is off. */
  private async pruneAutoscalers(p: Pass) {
    const wanted = new Set(
      p.variants
        .filter((v) => v.autoscale)
        .map((v) => versionDeploymentName(p.model, v.version.digest)),
    );
    for (const h of this.deps.autoscalers.list(p.namespace)) {
      const n = h.metadata?.name ?? "";
      if (
        wanted.has(n) ||
        !h.metadata?.ownerReferences?.some((r) => r.uid === p.model.metadata?.uid)
      )
        continue;
      await this.deps.client.delete(Resources.horizontalPodAutoscalers, p.namespace, n);
      this.applied.delete(
        `${p.model.metadata?.uid}/${Resources.horizontalPodAutoscalers.plural}/${n}`,
      );
    }
  }

  private async removeRouter(p: Pass) {
    const cm = trafficConfigMapName(p.model);
    if (!this.deps.deployments.get(`${p.namespace}/${routerName(p.model)}`)) return;
    const n = routerName(p.model);
    for (const [type, name] of [
      [Resources.configMaps, cm],
      [Resources.roleBindings, n],
      [Resources.roles, n],
      [Resources.serviceAccounts, n],
    ] as const) {
      await this.deps.client.delete(type, p.namespace, name);
      this.applied.delete(`${p.model.metadata?.uid}/${type.plural}/${name}`);
    }
  }

  private async recordEvents(p: Pass) {
    for (const e of p.decision?.events ?? [])
      await this.deps.recorder.record(p.model, e.type, e.reason, e.message);
    return Step.continue;
  }

  /** The canary's real share: exact behind the router, the ready-pod ratio with replicas. */
  private effectiveWeight(p: Pass): number {
    const d = p.decision;
    if (!d?.canary) return 0;
    if (p.routing === "router") {
      const router = this.deps.deployments.get(`${p.namespace}/${routerName(p.model)}`);
      return (router?.status?.readyReplicas ?? 0) > 0 ? d.weight : 0;
    }
    const ready = (v: VersionRef | undefined) => this.deployment(p, v)?.status?.readyReplicas ?? 0;
    const c = ready(d.canary);
    const total = c + ready(d.stable);
    return total === 0 ? 0 : Math.round((1000 * c) / total) / 10;
  }

  private async writeStatus(p: Pass) {
    const resolution = p.resolution;
    const d = p.decision;
    if (!resolution || !d) throw new Error("status step ran before resolve and rollout");
    const decision = this.servingDecision(p, resolution);
    const baseline = this.status.baseline(p.model) ?? {};
    const write = await this.status.write(p.model, {
      phase: decision.phase,
      serving: d.stable,
      endpoint: p.variants.length ? servingEndpoint(p.model, Defaults.servingPort) : undefined,
      replicas: decision.replicas,
      readyReplicas: decision.readyReplicas,
      variants: decision.variants,
      rollout: d.stable ? { ...d.status, effectiveWeight: this.effectiveWeight(p) } : undefined,
      conditions: mergeConditions(baseline.conditions, decision.conditions, p.now),
      observedGeneration: p.model.metadata?.generation,
    });
    await this.afterStatusWrite(p, write, decision);
    // A source that cannot resolve until the spec changes (an unsupported or malformed artifact
    // URI, a TrainingRun that failed: runs are immutable once started) is a terminal error, as
    // controller-runtime has it: status and Event are written, it is counted in
    // controller_runtime_terminal_reconcile_errors_total, and the key is not retried; an edit of
    // the ChurnModel or an event of its TrainingRun brings it back.
    if (resolution.state === "failed" && !d.stable)
      throw new TerminalError(resolution.message, resolution.reason);
    // A rollout is driven by time (steps, analysis intervals): come back for the next tick.
    if (d.canary) return Step.requeue(nextTick(p));
    // Otherwise Deployment watch events drive it; the requeue is only a safety net.
    return decision.phase === "Ready" ? Step.stop : Step.requeue(30_000);
  }

  /** Ready / Progressing / Degraded from the variants' (and the router's) Deployments. */
  private servingDecision(p: Pass, resolution: NonNullable<Pass["resolution"]>) {
    const byName = new Map<string, V1Deployment>();
    for (const x of this.deps.deployments.list(p.namespace)) byName.set(x.metadata?.name ?? "", x);
    return decideServingStatus(
      resolution,
      p.variants,
      byName,
      (v) => versionDeploymentName(p.model, v.version.digest),
      p.model.metadata?.generation ?? 0,
      p.routing === "router"
        ? {
            deployment: byName.get(routerName(p.model)),
            replicas: routerReplicas(p.model.spec.replicas),
          }
        : undefined,
      (deployment) => artifactFetchFailure(this.podsOf(p, deployment)),
    );
  }

  /** The pods of one of the model's Deployments (its ReplicaSets' pods carry its name). */
  private podsOf(p: Pass, deployment: string): V1Pod[] {
    return this.deps.pods
      .list(p.namespace)
      .filter((x) => x.metadata?.labels?.[Labels.churnModel] === p.model.metadata?.name)
      .filter((x) => x.metadata?.generateName?.startsWith(`${deployment}-`));
  }

  /** The rollout gauges, a rollout's end counted once, and an Event on a phase change. */
  private async afterStatusWrite(
    p: Pass,
    write: StatusWrite<ChurnModelStatus>,
    decision: ServingDecision,
  ) {
    const rollout = write.status.rollout;
    this.deps.metrics?.observe(p.namespace, p.model.metadata?.name ?? "", rollout);
    const ended =
      rollout?.phase === "Promoted" ||
      rollout?.phase === "RolledBack" ||
      rollout?.phase === "Aborted";
    if (write.changed && write.old.rollout?.canary && !rollout?.canary && ended)
      this.deps.metrics?.ended(
        rollout.phase as string,
        rollout.reason ?? (rollout.phase as string),
      );
    if (write.changed && write.old.phase !== decision.phase) {
      const warn = decision.phase === "Degraded" || decision.phase === "Failed";
      await this.deps.recorder.record(
        p.model,
        warn ? "Warning" : "Normal",
        decision.reason,
        decision.message,
      );
    }
  }
}

/** Kinds the controller has an informer for (an applied one is confirmed by the cache). */
function tracked(type: ResourceType): boolean {
  return type.plural === Resources.deployments.plural || type.plural === Resources.services.plural;
}

/** Milliseconds until the next analysis is due (at least 1 s). */
function nextTick(p: Pass): number {
  const at = p.decision?.status.analysis?.at;
  const interval = p.analysis.intervalSeconds * 1000;
  const since = at ? p.now.getTime() - Date.parse(at) : interval;
  return Math.max(1000, Math.min(interval, interval - since));
}

/** The manual action in the ChurnModel's annotations, if any. */
export function actionOf(model: ChurnModel): RolloutAction | undefined {
  const a = model.metadata?.annotations ?? {};
  const kind = a[RolloutAnnotations.action];
  const id = a[RolloutAnnotations.actionId];
  if (!kind || !id) return undefined;
  if (kind !== "promote" && kind !== "promote-full" && kind !== "abort" && kind !== "retry")
    return undefined;
  return { kind, id };
}
