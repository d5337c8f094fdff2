import { type Condition, type ConditionUpdate, setCondition } from "../../api/condition.js";
import { API_VERSION, FIELD_MANAGER } from "../../api/group.js";
import type { KubeClient } from "../../kube/kube-client.js";
import type { KubeObject } from "../../kube/kube-object.js";
import type { ResourceType } from "../../kube/resource-type.js";
import { WrittenStatus } from "./written-status.js";

/** A status with the fields every custom resource of ours has. */
export interface ConditionedStatus {
  conditions?: Condition[];
}

/** What one status write did. */
export interface StatusWrite<S> {
  /** The status compared against: the last one this process wrote, else the cached one. */
  old: S;
  /** The status as written (undefined fields dropped). */
  status: S;
  /** Whether it differed from `old` and was written. */
  changed: boolean;
}

/** Options of {@link StatusWriter.write}. */
export interface StatusWriteOptions {
  /** Make the write conditional on this resourceVersion (a 409 if the object moved on). */
  resourceVersion?: string;
}

/** Drops undefined fields so two statuses compare by content. */
export function pruneUndefined<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** Merges condition updates into `conditions` (transition times kept unless status changes). */
export function mergeConditions(
  conditions: readonly Condition[] | undefined,
  updates: readonly ConditionUpdate[],
  now: Date,
): Condition[] {
  let out: Condition[] = [...(conditions ?? [])];
  for (const c of updates) out = setCondition(out, c, now);
  return out;
}

/**
 * The single status writer of one kind: compares the new status with the last one this
 * process wrote (the cache lags our own writes), writes it through the status subresource
 * with server-side apply only when it changed, and remembers it. A controller builds the
 * status, calls write, and acts on the result (Events, metrics) only when `changed`.
 */
export class StatusWriter<S extends ConditionedStatus> {
  private readonly written = new WrittenStatus<S>();

  constructor(
    private readonly client: KubeClient,
    private readonly type: ResourceType,
  ) {}

  /** The status to build on: ours if we wrote one for this object, else the cached one. */
  baseline(obj: KubeObject & { status?: S }): S | undefined {
    return this.written.baseline(obj.metadata?.uid, obj.status);
  }

  /** Writes `next` for `obj` if it differs from the baseline; see {@link StatusWrite}. */
  async write(
    obj: KubeObject & { status?: S },
    next: S,
    opts: StatusWriteOptions = {},
  ): Promise<StatusWrite<S>> {
    const old = pruneUndefined(this.baseline(obj) ?? ({} as S));
    const status = pruneUndefined(next);
    if (JSON.stringify(status) === JSON.stringify(old)) return { old, status, changed: false };
    const rv = opts.resourceVersion ? { resourceVersion: opts.resourceVersion } : {};
    await this.client.apply(
      this.type,
      {
        apiVersion: API_VERSION,
        kind: this.type.kind,
        metadata: { name: obj.metadata?.name, namespace: obj.metadata?.namespace, ...rv },
        status,
      },
      { fieldManager: FIELD_MANAGER, force: true, subresource: "status" },
    );
    this.written.remember(obj.metadata?.uid, status);
    return { old, status, changed: true };
  }

  /** Forgets a deleted object. */
  forget(uid: string | undefined): void {
    this.written.forget(uid);
  }

  /** How many objects' statuses are remembered (bounded by the live objects). */
  get size(): number {
    return this.written.size;
  }
}
