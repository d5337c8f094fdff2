import {
  type CoreV1Api,
  CoreV1Api as CoreV1ApiClass,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1ConfigMap,
  type V1PersistentVolume,
  type V1PersistentVolumeClaim,
  type V1Pod,
  type V1PodStatus,
  type V1Secret,
  type V1Service,
} from "@kubernetes/client-node";
import { describeError } from "./describe-error.js";
import type { PodVolumeSource } from "./pod-volumes.js";

/** HTTP status of a client-node error, if it carries one. */
export function errorStatus(err: unknown): number | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === "number" ? code : undefined;
}

/**
 * The apiserver as one node sees it, with that node's own credentials (user
 * `system:node:<name>`), so the Node authorizer and NodeRestriction apply exactly as they do
 * to a kubelet.
 */
export class NodeApi implements PodVolumeSource {
  readonly core: CoreV1Api;

  constructor(
    kc: KubeConfig,
    readonly nodeAllocatable: { cpu: number; memoryBytes: number },
  ) {
    this.core = kc.makeApiClient(CoreV1ApiClass);
  }

  /**
   * Reads an object the pod refers to. The Node authorizer learns about a pod's references a
   * moment after the pod is bound, so a 403 is retried briefly before it counts.
   */
  private async read<T>(fn: () => Promise<T>): Promise<T | null> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const status = errorStatus(err);
        if (status === 404) return null;
        if (status === 403 && attempt < 10) {
          await new Promise((r) => setTimeout(r, 300 * (attempt + 1)));
          continue;
        }
        throw err;
      }
    }
  }

  /** A ConfigMap, or null when it does not exist. */
  configMap(namespace: string, name: string): Promise<V1ConfigMap | null> {
    return this.read(() => this.core.readNamespacedConfigMap({ name, namespace }));
  }

  /** A Secret, or null when it does not exist. */
  secret(namespace: string, name: string): Promise<V1Secret | null> {
    return this.read(() => this.core.readNamespacedSecret({ name, namespace }));
  }

  /** A PersistentVolumeClaim, or null. */
  persistentVolumeClaim(namespace: string, name: string): Promise<V1PersistentVolumeClaim | null> {
    return this.read(() => this.core.readNamespacedPersistentVolumeClaim({ name, namespace }));
  }

  /** A PersistentVolume, or null. */
  persistentVolume(name: string): Promise<V1PersistentVolume | null> {
    return this.read(() => this.core.readPersistentVolume({ name }));
  }

  /** Services of a namespace, for the kubelet-style `<NAME>_SERVICE_HOST` variables. */
  async services(namespace: string): Promise<V1Service[]> {
    return (await this.core.listNamespacedService({ namespace })).items;
  }

  /** A token for the pod's service account, bound to the pod (TokenRequest API). */
  async serviceAccountToken(
    pod: V1Pod,
    opts: { audience?: string; expirationSeconds: number },
  ): Promise<{ token: string; expiresAt: Date }> {
    const namespace = pod.metadata?.namespace ?? "default";
    const name = pod.spec?.serviceAccountName || "default";
    const res = await this.core.createNamespacedServiceAccountToken({
      name,
      namespace,
      body: {
        spec: {
          audiences: opts.audience ? [opts.audience] : [],
          expirationSeconds: opts.expirationSeconds,
          boundObjectRef: {
            apiVersion: "v1",
            kind: "Pod",
            name: pod.metadata?.name,
            uid: pod.metadata?.uid,
          },
        },
      },
    });
    const token = res.status?.token;
    if (!token) throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
    return { token, expiresAt: new Date(res.status?.expirationTimestamp ?? Date.now() + 3600_000) };
  }

  /** Writes a pod's status with a merge patch, guarded by the pod's uid. */
  async patchPodStatus(pod: V1Pod, status: V1PodStatus): Promise<V1Pod> {
    return this.core.patchNamespacedPodStatus(
      {
        name: pod.metadata?.name ?? "",
        namespace: pod.metadata?.namespace ?? "default",
        body: { metadata: { uid: pod.metadata?.uid }, status },
      },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
  }

  /** The final delete after the pod's containers stopped: grace 0, only this incarnation. */
  async deletePod(pod: V1Pod): Promise<void> {
    try {
      await this.core.deleteNamespacedPod({
        name: pod.metadata?.name ?? "",
        namespace: pod.metadata?.namespace ?? "default",
        gracePeriodSeconds: 0,
        body: { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata?.uid } },
      });
    } catch (err) {
      const status = errorStatus(err);
      if (status !== 404 && status !== 409) throw err;
    }
  }

  /** Records an Event about a pod, as the kubelet does; failures are only logged. */
  async event(
    pod: V1Pod,
    node: string,
    type: "Normal" | "Warning",
    reason: string,
    message: string,
  ) {
    const namespace = pod.metadata?.namespace ?? "default";
    const now = new Date();
    // Like the kubelet's event recorder: a repeat of the same event bumps its count instead of
    // creating another object (probe failures every second would otherwise pile up).
    const key = `${pod.metadata?.uid}/${type}/${reason}/${message}`;
    const seen = this.recentEvents.get(key);
    try {
      if (seen && now.getTime() - seen.at < 600_000) {
        seen.count++;
        seen.at = now.getTime();
        await this.core.patchNamespacedEvent(
          { name: seen.name, namespace, body: { count: seen.count, lastTimestamp: now } },
          setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
        );
        return;
      }
      const created = await this.core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { generateName: `${pod.metadata?.name}.`, namespace },
          involvedObject: {
            apiVersion: "v1",
            kind: "Pod",
            name: pod.metadata?.name,
            namespace,
            uid: pod.metadata?.uid,
          },
          type,
          reason,
          message,
          source: { component: "kubelet", host: node },
          reportingComponent: "kubelet",
          reportingInstance: node,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
      if (this.recentEvents.size > 5000) this.recentEvents.clear();
      this.recentEvents.set(key, {
        name: created.metadata?.name ?? "",
        count: 1,
        at: now.getTime(),
      });
    } catch (err) {
      if (seen) this.recentEvents.delete(key);
      process.stderr.write(
        `[agent] event ${reason} for ${namespace}/${pod.metadata?.name}: ${describeError(err)}\n`,
      );
    }
  }

  private readonly recentEvents = new Map<string, { name: string; count: number; at: number }>();
}
