import type { ChurnModel } from "../../api/churn-model.js";
import { replicasOf } from "../../api/defaults.js";
import type { ServableVersion, SourceResolution } from "./resolve-source.js";

/** A named Deployment of one model version; the Service spreads traffic over variants. */
export interface Variant {
  /** "stable" now; the canary rollout adds "canary" with its own version and replicas. */
  name: "stable" | "canary";
  version: ServableVersion;
  replicas: number;
}

/**
 * The variants a ChurnModel should run. Today: one stable variant with the resolved version,
 * replaced by a plain rolling update when a newer version resolves. While the source cannot be
 * resolved, the version already served keeps serving (never scale down what works because a
 * new run is still training). The canary issue extends this function, not the controller.
 */
export function desiredVariants(
  model: ChurnModel,
  resolution: SourceResolution,
  serving: ServableVersion | undefined,
): Variant[] {
  const version = resolution.state === "resolved" ? resolution.version : serving;
  if (!version) return [];
  return [{ name: "stable", version, replicas: replicasOf(model.spec.replicas) }];
}
