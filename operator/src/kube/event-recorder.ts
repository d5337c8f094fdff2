import { randomBytes } from "node:crypto";
import type { KubeClient } from "./kube-client.js";
import type { KubeObject } from "./kube-object.js";
import type { Logger } from "./logger.js";
import { Resources } from "./resources.js";

/** Emits core/v1 Events about objects; failures are logged, never thrown (events are best effort). */
export class EventRecorder {
  constructor(
    private readonly client: KubeClient,
    private readonly component: string,
    private readonly log: Logger,
  ) {}

  /** Records a Normal or Warning event with a distinct reason on `obj`. */
  async record(
    obj: KubeObject,
    type: "Normal" | "Warning",
    reason: string,
    message: string,
  ): Promise<void> {
    const meta = obj.metadata ?? {};
    const namespace = meta.namespace ?? "default";
    const now = new Date();
    const event = {
      apiVersion: "v1",
      kind: "Event",
      metadata: {
        name: `${meta.name}.${now.getTime().toString(16)}${randomBytes(3).toString("hex")}`,
        namespace,
      },
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: meta.name,
        namespace,
        uid: meta.uid,
        resourceVersion: meta.resourceVersion,
      },
      reason,
      message: message.slice(0, 1024),
      type,
      source: { component: this.component },
      firstTimestamp: now.toISOString().replace(/\.\d{3}Z$/, "Z"),
      lastTimestamp: now.toISOString().replace(/\.\d{3}Z$/, "Z"),
      count: 1,
    };
    try {
      await this.client.create(Resources.events, event);
    } catch (err) {
      this.log.error("could not record event", { reason, object: meta.name, error: String(err) });
    }
  }
}
