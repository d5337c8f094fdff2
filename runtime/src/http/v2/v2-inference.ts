// What the Open Inference Protocol asks of the served model, whatever carries it (REST in
// v2-routes.ts, gRPC in runtime/src/grpc/): the model by name and version, its metadata and
// readiness, and infer: request -> rows (infer-request.ts) -> ModelService -> output tensors.
import type { Artifact } from "../../artifact/artifact.js";
import { notReady, RequestError } from "../../request-error.js";
import type { AppDeps } from "../app.js";
import { isReady } from "../operational-routes.js";
import { requireExplanations, validatorsFor } from "../scoring-routes.js";
import { type InferAnswer, inferAnswer } from "./infer-answer.js";
import { readInferRequest } from "./infer-request.js";
import { type ModelMetadata, modelMetadata } from "./model-metadata.js";

/** GET /v2 (and gRPC ServerMetadata): who answers, and the protocol extensions it speaks. */
export const SERVER_METADATA = {
  name: "churn-runtime",
  version: "2",
  extensions: ["binary_tensor_data"],
} as const;

/** The served model as the protocol sees it. */
export class V2Inference {
  private readonly validators: ReturnType<typeof validatorsFor>;

  constructor(private readonly deps: Pick<AppDeps, "model" | "limits">) {
    this.validators = validatorsFor(deps.model, deps.limits);
  }

  /** Whether the model is ready (self-check passed, not draining). */
  get ready(): boolean {
    return isReady(this.deps.model);
  }

  /** The served artifact when `name` (and `version`, if given) name it; 404 otherwise. */
  artifact(name: string, version?: string): Artifact {
    const { model } = this.deps;
    const artifact = model.artifact;
    if (!artifact) throw notReady(model.reason);
    if (name !== artifact.card.name) {
      throw new RequestError(
        404,
        "unknown_model",
        `unknown model ${JSON.stringify(name)}; this server serves ${JSON.stringify(artifact.card.name)}`,
      );
    }
    if (version && version !== artifact.digest) {
      throw new RequestError(
        404,
        "unknown_version",
        `unknown version ${JSON.stringify(version)} of ${name}; the served version is ${artifact.digest}`,
      );
    }
    return artifact;
  }

  /** The model's metadata. */
  metadata(name: string, version?: string): ModelMetadata {
    const artifact = this.artifact(name, version);
    return modelMetadata(artifact.card, artifact.digest, this.validators().shape);
  }

  /** Scores a request; with `allBinary`, every output as binary data (gRPC's raw contents). */
  async infer(
    name: string,
    version: string | undefined,
    json: unknown,
    binary: Buffer,
    allBinary = false,
  ): Promise<InferAnswer> {
    const { model, limits } = this.deps;
    const artifact = this.artifact(name, version);
    const { shape, instance } = this.validators();
    const plan = readInferRequest(json, binary, {
      fields: shape.fields,
      instance,
      maxRows: limits.maxBatch,
      maxExplainRows: limits.maxExplainRows,
    });
    if (plan.explain) requireExplanations(limits);
    if (allBinary) plan.outputs = plan.outputs.map((o) => ({ ...o, binary: true }));
    const predictions = await model.predict(plan.rows, plan.explain, "v2_infer");
    return inferAnswer(plan, predictions, artifact.card, artifact.digest);
  }
}
