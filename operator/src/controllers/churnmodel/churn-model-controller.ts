import type { V1Deployment, V1Service } from "@kubernetes/client-node";
import type { ChurnModel, ChurnModelStatus } from "../../api/churn-model.js";
import { Defaults } from "../../api/defaults.js";
import { FIELD_MANAGER } from "../../api/group.js";
import { Reasons } from "../../api/reasons.js";
import type { TrainingRun } from "../../api/training-run.js";
import type { EventRecorder } from "../../kube/event-recorder.js";
import type { Informer } from "../../kube/informer.js";
import type { KubeClient } from "../../kube/kube-client.js";
import { splitKey } from "../../kube/kube-object.js";
import type { Logger } from "../../kube/logger.js";
import { type ReconcileResult, TerminalError } from "../../kube/reconcile-result.js";
import { Resources } from "../../kube/resources.js";
import { type ReconcileStep, runSteps, Step } from "../reconcile-steps.js";
import { churnModelType } from "../shared/custom-resources.js";
import { Labels } from "../shared/labels.js";
import { mergeConditions, StatusWriter } from "../shared/status-writer.js";
import { buildServingDeployment, type ServingSettings } from "./build-serving-deployment.js";
import { buildServingService } from "./build-serving-service.js";
import { desiredVariants, type Variant } from "./desired-variants.js";
import { resolveSource, type ServableVersion, type SourceResolution } from "./resolve-source.js";
import { servingEndpoint, variantDeploymentName } from "./serving-names.js";
import { decideServingStatus } from "./serving-status.js";

/** What the ChurnModel controller needs from the process. */
export interface ChurnModelControllerDeps {
  client: KubeClient;
  models: Informer<ChurnModel>;
  runs: Informer<TrainingRun>;
  deployments: Informer<V1Deployment>;
  services: Informer<V1Service>;
  recorder: EventRecorder;
  settings: ServingSettings;
  log: Logger;
  now?: () => Date;
}

interface Pass {
  model: ChurnModel;
  namespace: string;
  resolution?: SourceResolution;
  variants: Variant[];
}

/**
 * Reconciles ChurnModels: source -> desired variants -> Deployments + Service (server-side
 * applied, owned by the ChurnModel so deletion cascades) -> status from the Deployments.
 */
export class ChurnModelReconciler {
  private readonly steps: ReconcileStep<Pass>[];
  private readonly status: StatusWriter<ChurnModelStatus>;
  /** Digest last applied per Deployment by this process (the cache lags our own applies). */
  private readonly appliedDigest = new Map<string, string>();
  private readonly appliedServices = new Set<string>();

  constructor(private readonly deps: ChurnModelControllerDeps) {
    this.status = new StatusWriter(deps.client, churnModelType);
    this.steps = [
      { name: "resolve", run: async (p) => this.resolve(p) },
      { name: "deployments", run: async (p) => this.applyDeployments(p) },
      { name: "service", run: async (p) => this.applyService(p) },
      { name: "prune", run: async (p) => this.prune(p) },
      { name: "status", run: async (p) => this.writeStatus(p) },
    ];
  }

  /** Reconciles the ChurnModel with this key. */
  async reconcile(key: string): Promise<ReconcileResult> {
    const model = this.deps.models.get(key);
    if (!model || model.metadata?.deletionTimestamp) return {};
    const { namespace } = splitKey(key);
    const pass: Pass = { model, namespace: namespace ?? "default", variants: [] };
    const r = await runSteps(this.steps, pass);
    return r.requeueAfterMs === undefined ? {} : { requeueAfterMs: r.requeueAfterMs };
  }

  /** Forgets what this process remembers of a deleted ChurnModel. */
  forget(model: ChurnModel): void {
    const uid = model.metadata?.uid;
    if (!uid) return;
    this.status.forget(uid);
    for (const k of this.appliedDigest.keys())
      if (k.startsWith(`${uid}/`)) this.appliedDigest.delete(k);
    for (const k of this.appliedServices)
      if (k.startsWith(`${uid}/`)) this.appliedServices.delete(k);
  }

  /** How many ChurnModels this process keeps state for (statuses, applied children). */
  get remembered(): number {
    const uids = new Set<string>();
    for (const k of [...this.appliedDigest.keys(), ...this.appliedServices])
      uids.add(k.split("/")[0] ?? "");
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
    const s = this.status.baseline(p.model)?.serving;
    const serving: ServableVersion | undefined = s
      ? { digest: s.digest, uri: s.uri, trainingRun: s.trainingRun }
      : undefined;
    p.variants = desiredVariants(p.model, p.resolution, serving);
    return Step.continue;
  }

  private async applyDeployments(p: Pass) {
    for (const v of p.variants) {
      const d = buildServingDeployment(p.model, v, this.deps.settings);
      const current = this.deps.deployments.get(`${p.namespace}/${d.metadata?.name}`);
      const key = `${p.model.metadata?.uid}/${d.metadata?.name}`;
      const previousDigest =
        this.appliedDigest.get(key) ??
        current?.spec?.template?.metadata?.annotations?.["churn.mlops.dev/digest"];
      await this.deps.client.apply(Resources.deployments, d, {
        fieldManager: FIELD_MANAGER,
        force: true,
      });
      this.appliedDigest.set(key, v.version.digest);
      if (previousDigest !== v.version.digest) {
        const from = previousDigest ? ` replacing ${previousDigest.slice(0, 12)}` : "";
        await this.deps.recorder.record(
          p.model,
          "Normal",
          previousDigest ? Reasons.NewVersionSelected : Reasons.DeploymentApplied,
          `${v.name} serves model ${v.version.digest.slice(0, 12)}${from}`,
        );
      }
    }
    return Step.continue;
  }

  private async applyService(p: Pass) {
    if (p.variants.length === 0) return Step.continue;
    const svc = buildServingService(p.model);
    const key = `${p.model.metadata?.uid}/${svc.metadata?.name}`;
    const existed =
      this.appliedServices.has(key) ||
      this.deps.services.get(`${p.namespace}/${svc.metadata?.name}`) !== undefined;
    await this.deps.client.apply(Resources.services, svc, {
      fieldManager: FIELD_MANAGER,
      force: true,
    });
    if (!existed) {
      await this.deps.recorder.record(
        p.model,
        "Normal",
        Reasons.ServiceApplied,
        `scoring Service ${servingEndpoint(p.model, Defaults.servingPort)}`,
      );
    }
    return Step.continue;
  }

  /** Removes Deployments of variants no longer wanted (a finished canary, later). */
  private async prune(p: Pass) {
    const wanted = new Set(p.variants.map((v) => variantDeploymentName(p.model, v.name)));
    const owned = this.deps.deployments
      .list(p.namespace)
      .filter((d) => d.metadata?.labels?.[Labels.churnModel] === p.model.metadata?.name)
      .filter((d) => d.metadata?.ownerReferences?.some((o) => o.uid === p.model.metadata?.uid));
    for (const d of owned) {
      const name = d.metadata?.name ?? "";
      if (wanted.has(name) || p.variants.length === 0) continue;
      await this.deps.client.delete(Resources.deployments, p.namespace, name);
      await this.deps.recorder.record(
        p.model,
        "Normal",
        Reasons.VariantRemoved,
        `removed Deployment ${name}`,
      );
    }
    return Step.continue;
  }

  private async writeStatus(p: Pass) {
    const resolution = p.resolution;
    if (!resolution) throw new Error("status step ran before resolve");
    const byName = new Map<string, V1Deployment>();
    for (const d of this.deps.deployments.list(p.namespace)) byName.set(d.metadata?.name ?? "", d);
    const decision = decideServingStatus(
      resolution,
      p.variants,
      byName,
      (v) => variantDeploymentName(p.model, v.name),
      p.model.metadata?.generation ?? 0,
    );
    const now = (this.deps.now ?? (() => new Date()))();
    const baseline = this.status.baseline(p.model) ?? {};
    const stable = p.variants.find((v) => v.name === "stable");
    const write = await this.status.write(p.model, {
      phase: decision.phase,
      serving: stable
        ? {
            digest: stable.version.digest,
            uri: stable.version.uri,
            trainingRun: stable.version.trainingRun,
          }
        : undefined,
      endpoint: p.variants.length ? servingEndpoint(p.model, Defaults.servingPort) : undefined,
      replicas: decision.replicas,
      readyReplicas: decision.readyReplicas,
      variants: decision.variants,
      conditions: mergeConditions(baseline.conditions, decision.conditions, now),
      observedGeneration: p.model.metadata?.generation,
    });
    if (write.changed && write.old.phase !== decision.phase) {
      const warn = decision.phase === "Degraded" || decision.phase === "Failed";
      await this.deps.recorder.record(
        p.model,
        warn ? "Warning" : "Normal",
        decision.reason,
        decision.message,
      );
    }
    // A source that cannot resolve until the spec changes (an unsupported or malformed artifact
    // URI, a TrainingRun that failed: runs are immutable once started) is a terminal error, as
    // controller-runtime has it: status and Event are written, it is counted in
    // controller_runtime_terminal_reconcile_errors_total, and the key is not retried; an edit of
    // the ChurnModel or an event of its TrainingRun brings it back.
    if (resolution.state === "failed")
      throw new TerminalError(resolution.message, resolution.reason);
    // Rollouts are followed through Deployment watch events; the requeue is only a safety net.
    return decision.phase === "Ready" ? Step.stop : Step.requeue(30_000);
  }
}
