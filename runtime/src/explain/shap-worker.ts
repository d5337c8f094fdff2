// Worker-thread entry: holds one TreeExplainer and explains batches of encoded rows on request,
// so SHAP work never blocks the HTTP event loop.
import { parentPort, workerData } from "node:worker_threads";
import type { TreeEnsemble } from "./onnx-trees.js";
import { transferList } from "./transfer-list.js";
import { TreeExplainer } from "./tree-shap.js";

/** A batch to explain: `rows` rows of encoded features, row-major. */
export interface ShapTask {
  id: number;
  rows: number;
  features: Float32Array;
}

/** The reply: contributions row-major, featureCount + 1 per row (the last is the base value). */
export type ShapReply = { id: number; contributions: Float64Array } | { id: number; error: string };

const { ensemble, featureCount } = workerData as { ensemble: TreeEnsemble; featureCount: number };
const explainer = new TreeExplainer(ensemble, featureCount);

parentPort?.on("message", (task: ShapTask) => {
  let reply: ShapReply;
  try {
    reply = { id: task.id, contributions: explainer.explainBatch(task.features, task.rows) };
  } catch (err) {
    reply = { id: task.id, error: err instanceof Error ? err.message : String(err) };
  }
  parentPort?.postMessage(reply, "contributions" in reply ? transferList(reply.contributions) : []);
});
