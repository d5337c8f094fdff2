import type { V1Deployment } from "@kubernetes/client-node";
import type { ChurnModelStatus } from "../../api/churn-model.js";
import type { ConditionUpdate } from "../../api/condition.js";
import { ConditionTypes } from "../../api/condition-types.js";
import { type Reason, Reasons } from "../../api/reasons.js";
import type { Variant } from "./desired-variants.js";
import type { SourceResolution } from "./resolve-source.js";

/** A ChurnModel's decided status, minus condition times (the controller merges those). */
export interface ServingDecision {
  phase: NonNullable<ChurnModelStatus["phase"]>;
  conditions: ConditionUpdate[];
  replicas: number;
  readyReplicas: number;
  variants: NonNullable<ChurnModelStatus["variants"]>;
  /** The event-worthy reason of this state. */
  reason: Reason;
  message: string;
}

/** Whether a Deployment has fully rolled out its current spec. */
function rolledOut(d: V1Deployment | undefined, want: number): boolean {
  if (!d) return false;
  const st = d.status ?? {};
  return (
    (st.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
    (st.updatedReplicas ?? 0) >= want &&
    (st.readyReplicas ?? 0) >= want &&
    (st.replicas ?? 0) <= want
  );
}

function stalled(d: V1Deployment | undefined): string | undefined {
  const c = d?.status?.conditions?.find((x) => x.type === "Progressing");
  return c?.status === "False" ? (c.message ?? c.reason ?? "rollout stalled") : undefined;
}

/** One variant's serving state, as decided from its Deployment. */
interface VariantState {
  name: string;
  digest: string;
  deployment: string;
  replicas: number;
  readyReplicas: number;
  done: boolean;
  stalled: string | undefined;
  /** Why the stall: a Deployment past its deadline, or pods refusing their artifact. */
  stallReason: Reason;
}

/** Builds a condition update of this generation. */
type Cond = (
  type: string,
  status: ConditionUpdate["status"],
  reason: Reason,
  message: string,
) => ConditionUpdate;

/** What every branch of the decision shares. */
type Base = Pick<ServingDecision, "replicas" | "readyReplicas" | "variants">;

/**
 * Decides Ready / Progressing / Degraded from the source resolution and the variants'
 * Deployments. Pure; table-tested.
 */
export function decideServingStatus(
  resolution: SourceResolution,
  variants: readonly Variant[],
  deployments: ReadonlyMap<string, V1Deployment>,
  deploymentName: (v: Variant) => string,
  generation: number,
  /** Router traffic: the router's Deployment, which must be up before the model is Ready. */
  router?: { deployment: V1Deployment | undefined; replicas: number },
  /** Why a Deployment's pods refuse their artifact (see artifactFetchFailure), if they do. */
  artifactRejected: (deployment: string) => string | undefined = () => undefined,
): ServingDecision {
  const cond: Cond = (type, status, reason, message) => ({
    type,
    status,
    reason,
    message,
    observedGeneration: generation,
  });
  const perVariant = variants.map((v): VariantState => {
    const d = deployments.get(deploymentName(v));
    const rejected = artifactRejected(deploymentName(v));
    return {
      name: v.name,
      digest: v.version.digest,
      deployment: deploymentName(v),
      replicas: v.replicas,
      readyReplicas: d?.status?.readyReplicas ?? 0,
      done: rolledOut(d, v.replicas),
      // A refused artifact fails every retry alike: no need to wait for the deadline.
      stalled: rejected ?? stalled(d),
      stallReason: rejected ? Reasons.ArtifactRejected : Reasons.RolloutStalled,
    };
  });
  const base: Base = {
    replicas: perVariant.reduce((n, v) => n + v.replicas, 0),
    readyReplicas: perVariant.reduce((n, v) => n + v.readyReplicas, 0),
    variants: perVariant.map(({ done: _d, stalled: _s, stallReason: _r, ...v }) => v),
  };
  if (variants.length === 0) return noVariants(resolution, base, cond);

  const stall = perVariant.find((v) => v.stalled);
  // Applications call the router: the model is not Ready before it is (its pods are not
  // counted in replicas, which are the serving pods).
  const routerUp = !router || rolledOut(router.deployment, router.replicas);
  const sourceTrouble = resolution.state === "failed" ? resolution.message : undefined;
  const degradedMsg = stall?.stalled ?? sourceTrouble;
  const degraded = cond(
    ConditionTypes.Degraded,
    degradedMsg ? "True" : "False",
    stall ? stall.stallReason : sourceTrouble ? resolution.reason : Reasons.AllReplicasReady,
    degradedMsg ?? "no problems",
  );
  const serving = variants.map((v) => v.version.digest.slice(0, 12)).join(", ");
  if (perVariant.every((v) => v.done) && routerUp)
    return rolledOutDecision(base, serving, { degradedMsg, stall, degraded }, cond);
  const routerReady = routerUp || (router?.deployment?.status?.readyReplicas ?? 0) > 0;
  return rollingOutDecision(base, serving, { routerUp, routerReady, stall, degraded }, cond);
}

/** No variant to serve yet: Pending while the source resolves, Failed when it cannot. */
function noVariants(resolution: SourceResolution, base: Base, cond: Cond): ServingDecision {
  const failed = resolution.state === "failed";
  const { reason, message } = resolution;
  return {
    ...base,
    phase: failed ? "Failed" : "Pending",
    reason,
    message,
    conditions: [
      cond(ConditionTypes.Ready, "False", reason, message),
      cond(ConditionTypes.Progressing, failed ? "False" : "True", reason, message),
      cond(ConditionTypes.Degraded, failed ? "True" : "False", reason, message),
    ],
  };
}

/** Every variant (and the router) rolled out: Ready, or Degraded with a stall or source trouble. */
function rolledOutDecision(
  base: Base,
  serving: string,
  trouble: { degradedMsg?: string; stall?: VariantState; degraded: ConditionUpdate },
  cond: Cond,
): ServingDecision {
  const { replicas, readyReplicas } = base;
  const zero = replicas === 0;
  const reason = zero ? Reasons.ScaledToZero : Reasons.AllReplicasReady;
  const message = zero
    ? `scaled to zero (model ${serving})`
    : `${readyReplicas}/${replicas} replicas ready, serving model ${serving}`;
  return {
    ...base,
    phase: trouble.degradedMsg ? "Degraded" : "Ready",
    reason: trouble.degradedMsg && trouble.stall ? trouble.stall.stallReason : reason,
    message,
    conditions: [
      cond(ConditionTypes.Ready, zero ? "False" : "True", reason, message),
      cond(ConditionTypes.Progressing, "False", Reasons.RolloutComplete, message),
      trouble.degraded,
    ],
  };
}

/** Still rolling out: Progressing (Ready once anything answers), or Degraded on a stall. */
function rollingOutDecision(
  base: Base,
  serving: string,
  state: {
    routerUp: boolean;
    routerReady: boolean;
    stall?: VariantState;
    degraded: ConditionUpdate;
  },
  cond: Cond,
): ServingDecision {
  const { replicas, readyReplicas } = base;
  const { stall } = state;
  const message = state.routerUp
    ? `rolling out model ${serving}: ${readyReplicas}/${replicas} replicas ready`
    : `waiting for the router in front of model ${serving} (${readyReplicas}/${replicas} serving replicas ready)`;
  const anyReady = readyReplicas > 0 && state.routerReady;
  return {
    ...base,
    phase: stall ? "Degraded" : "Progressing",
    reason: stall ? stall.stallReason : Reasons.RollingOut,
    message: stall?.stalled ?? message,
    conditions: [
      cond(
        ConditionTypes.Ready,
        anyReady ? "True" : "False",
        anyReady ? Reasons.RollingOut : (stall?.stallReason ?? Reasons.ReplicasUnavailable),
        message,
      ),
      cond(ConditionTypes.Progressing, "True", Reasons.RollingOut, message),
      state.degraded,
    ],
  };
}
