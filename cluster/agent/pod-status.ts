import type {
  V1ContainerState,
  V1ContainerStatus,
  V1PodCondition,
  V1PodStatus,
} from "@kubernetes/client-node";

/** What the agent knows about one container of a pod. */
export interface ContainerRecord {
  name: string;
  image: string;
  containerID?: string;
  restartCount: number;
  state: V1ContainerState;
  lastState?: V1ContainerState;
  ready: boolean;
  started: boolean;
}

/** The agent's view of a pod, from which its API status is derived. */
export interface PodRuntimeView {
  /** Network namespace and volumes are in place. */
  sandboxReady: boolean;
  podIp?: string;
  hostIp: string;
  startTime: Date;
  restartPolicy: string;
  initContainers: ContainerRecord[];
  containers: ContainerRecord[];
  /** The pod is being deleted: nothing will be (re)started any more. */
  deleting: boolean;
}

const CONDITIONS_OWNED = new Set([
  "PodReadyToStartContainers",
  "Initialized",
  "ContainersReady",
  "Ready",
]);

/** Truncates to whole seconds: metav1.Time has second precision in conditions. */
const seconds = (d: Date) => new Date(Math.floor(d.getTime() / 1000) * 1000);

const isSucceeded = (c: ContainerRecord) => c.state.terminated?.exitCode === 0;
const isFailed = (c: ContainerRecord) =>
  c.state.terminated !== undefined && c.state.terminated.exitCode !== 0;
const hasRun = (c: ContainerRecord) =>
  c.state.running !== undefined ||
  c.state.terminated !== undefined ||
  c.lastState?.terminated !== undefined;

/**
 * Whether a container that stopped will be started again: the kubelet's rule for
 * restartPolicy, and never once the pod is being deleted.
 */
export function willRestart(c: ContainerRecord, restartPolicy: string, deleting: boolean): boolean {
  if (deleting || !c.state.terminated) return false;
  if (restartPolicy === "Always") return true;
  if (restartPolicy === "OnFailure") return c.state.terminated.exitCode !== 0;
  return false;
}

/** The pod phase, following the kubelet's getPhase. */
export function podPhase(view: PodRuntimeView): string {
  const { initContainers, containers, restartPolicy, deleting } = view;
  const initDone = initContainers.every(isSucceeded);
  if (!initDone) {
    const failedInit = initContainers.find(isFailed);
    if (failedInit && (restartPolicy === "Never" || deleting)) return "Failed";
    return "Pending";
  }
  if (!view.sandboxReady && !containers.some(hasRun)) return "Pending";
  const running = containers.filter((c) => c.state.running).length;
  const allStopped = containers.every((c) => c.state.terminated);
  if (allStopped && containers.every((c) => !willRestart(c, restartPolicy, deleting))) {
    return containers.some(isFailed) ? "Failed" : "Succeeded";
  }
  if (running > 0) return "Running";
  // Stopped or waiting containers that have run before are restarting: still Running.
  if (containers.some(hasRun)) return "Running";
  return "Pending";
}

function condition(
  type: string,
  ok: boolean,
  now: Date,
  previous: V1PodCondition[] | undefined,
  reason?: string,
  message?: string,
): V1PodCondition {
  const status = ok ? "True" : "False";
  const prev = previous?.find((c) => c.type === type);
  const lastTransitionTime =
    prev && prev.status === status && prev.lastTransitionTime
      ? new Date(prev.lastTransitionTime)
      : seconds(now);
  const c: V1PodCondition = { type, status, lastTransitionTime };
  if (!ok && reason) c.reason = reason;
  if (!ok && message) c.message = message;
  return c;
}

function toStatus(c: ContainerRecord): V1ContainerStatus {
  const s: V1ContainerStatus = {
    name: c.name,
    image: c.image,
    imageID: `process://${c.image}`,
    ready: c.ready,
    started: c.started,
    restartCount: c.restartCount,
    state: c.state,
  };
  if (c.containerID) s.containerID = c.containerID;
  if (c.lastState) s.lastState = c.lastState;
  return s;
}

/**
 * Derives the pod's status from the agent's view. Conditions the agent does not own
 * (PodScheduled, DisruptionTarget...) are kept, and a condition keeps its lastTransitionTime
 * until its status actually changes.
 */
export function podStatus(
  view: PodRuntimeView,
  previous: V1PodStatus | undefined,
  now: Date,
): V1PodStatus {
  const phase = podPhase(view);
  const terminal = phase === "Succeeded" || phase === "Failed";
  const prevConds = previous?.conditions;
  const names = (cs: ContainerRecord[]) => `[${cs.map((c) => c.name).join(" ")}]`;
  const incompleteInit = view.initContainers.filter((c) => !isSucceeded(c));
  const unready = view.containers.filter((c) => !c.ready);
  const readyReason = terminal ? "PodCompleted" : "ContainersNotReady";
  const readyMessage = terminal ? undefined : `containers with unready status: ${names(unready)}`;
  const owned = [
    condition("PodReadyToStartContainers", view.sandboxReady && !terminal, now, prevConds),
    condition(
      "Initialized",
      incompleteInit.length === 0,
      now,
      prevConds,
      "ContainersNotInitialized",
      `containers with incomplete status: ${names(incompleteInit)}`,
    ),
    condition(
      "ContainersReady",
      !terminal && unready.length === 0,
      now,
      prevConds,
      readyReason,
      readyMessage,
    ),
    condition(
      "Ready",
      !terminal && unready.length === 0,
      now,
      prevConds,
      readyReason,
      readyMessage,
    ),
  ];
  const foreign = (prevConds ?? []).filter((c) => !CONDITIONS_OWNED.has(c.type));
  const status: V1PodStatus = {
    phase,
    conditions: [...foreign, ...owned],
    hostIP: view.hostIp,
    hostIPs: [{ ip: view.hostIp }],
    startTime: seconds(view.startTime),
    containerStatuses: view.containers.map(toStatus),
  };
  if (view.initContainers.length > 0) {
    status.initContainerStatuses = view.initContainers.map(toStatus);
  }
  if (view.podIp) {
    status.podIP = view.podIp;
    status.podIPs = [{ ip: view.podIp }];
  }
  return status;
}
