import type { ChurnModel } from "../api/churn-model.js";
import { churnModelType } from "../controllers/shared/custom-resources.js";
import { apiFailure, type KubeConnection } from "./kube-connection.js";
import { PluginError } from "./plugin-error.js";

/** GETs the ChurnModel; a missing one is a PluginError that says where it was looked for. */
export async function readModel(conn: KubeConnection, name: string): Promise<ChurnModel> {
  let model: ChurnModel | undefined;
  try {
    model = await conn.client.get<ChurnModel>(churnModelType, conn.namespace, name);
  } catch (err) {
    throw apiFailure(err, conn);
  }
  if (!model)
    throw new PluginError(
      `ChurnModel "${name}" not found in namespace "${conn.namespace}" (\`kubectl get churnmodels -n ${conn.namespace}\` lists them; -n picks another namespace)`,
    );
  return model;
}
