// Follows one ChurnModel through the operator's own Informer (list + watch with resume,
// relist on 410 and backoff), so `status --watch` and an action's wait survive a dropped
// connection or an apiserver restart like the operator does.
import type { ChurnModel } from "../api/churn-model.js";
import { churnModelType } from "../controllers/shared/custom-resources.js";
import { Informer } from "../kube/informer.js";
import type { KubeClient } from "../kube/kube-client.js";
import type { Logger } from "../kube/logger.js";

/** What happens to the followed ChurnModel. */
export interface ModelWatchHandler {
  /** Each version seen, starting with the current one. */
  changed(model: ChurnModel): void;
  deleted(): void;
}

/** A running watch; `stop` ends it. */
export interface ModelWatch {
  stop(): Promise<void>;
}

/** Starts following `namespace/name`. */
export function watchModel(
  client: KubeClient,
  namespace: string,
  name: string,
  log: Logger,
  handler: ModelWatchHandler,
): ModelWatch {
  // The namespace's ChurnModels, filtered here: the Informer has no field selector, and a
  // namespace holds few of them.
  const informer = new Informer<ChurnModel>(client, churnModelType, log, {
    namespace,
    backoffMaxMs: 5_000,
  });
  const ours = (m: ChurnModel) => m.metadata?.name === name;
  informer.on({
    add: (m) => ours(m) && handler.changed(m),
    update: (m) => ours(m) && handler.changed(m),
    delete: (m) => ours(m) && handler.deleted(),
  });
  informer.start();
  return { stop: () => informer.stop() };
}
