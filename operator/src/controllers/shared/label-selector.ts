/** A metav1.LabelSelector. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

/**
 * Whether `labels` satisfy `selector`, with Kubernetes semantics: every matchLabels entry and
 * every expression must hold; an empty selector matches everything.
 */
export function matchesSelector(
  labels: Record<string, string> | undefined,
  selector: LabelSelector,
): boolean {
  const l = labels ?? {};
  return (
    Object.entries(selector.matchLabels ?? {}).every(([k, v]) => l[k] === v) &&
    (selector.matchExpressions ?? []).every((e) => expressionHolds(l, e))
  );
}

/** Whether one matchExpressions entry holds for `labels`. */
function expressionHolds(
  labels: Record<string, string>,
  e: NonNullable<LabelSelector["matchExpressions"]>[number],
): boolean {
  const has = Object.hasOwn(labels, e.key);
  const listed = has && (e.values ?? []).includes(labels[e.key] as string);
  switch (e.operator) {
    case "In":
      return listed;
    case "NotIn":
      return !listed;
    case "Exists":
      return has;
    case "DoesNotExist":
      return !has;
    default:
      throw new Error(`label selector: unknown operator ${JSON.stringify(e.operator)}`);
  }
}
