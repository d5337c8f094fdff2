/** Words PromQL reserves: aggregation modifiers, set operators and vector matching. */
const KEYWORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "and",
  "or",
  "unless",
  "bool",
  "offset",
  "atan2",
  "inf",
  "nan",
]);

/** One metric selector in an expression: the name and its label matchers. */
export interface MetricSelector {
  metric: string;
  matchers: { label: string; op: string; value: string }[];
}

/**
 * The metric selectors of a PromQL expression (Grafana `$variables` allowed): every bare name
 * that is not a function call, keyword, label list or duration, with the label matchers in the
 * braces that follow it. A small scanner, not a full parser: enough to check names and labels.
 */
export function promqlSelectors(expr: string): MetricSelector[] {
  const out: MetricSelector[] = [];
  // Strings first, so braces or names inside label values are never scanned as syntax.
  const strings: string[] = [];
  let src = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, (s) => {
    strings.push(s.slice(1, -1));
    return `"${strings.length - 1}"`;
  });
  // Range and subquery durations, then label lists of by/without/on/ignoring/group_*.
  src = src.replace(/\[[^\]]*\]/g, " ");
  // Dropped whole, so `sum by (le) (x)` reads as the call `sum (x)`.
  src = src.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  const re = /([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*(\{[^}]*\})?/g;
  for (let m = re.exec(src); m !== null; m = re.exec(src)) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    let name = m[1];
    const braces = m[2];
    const start = m.index;
    const before = start > 0 ? src[start - 1] : "";
    const after = src.slice(re.lastIndex).trimStart()[0];
    if (name && !braces && after === "(") continue; // a function call
    if (name && before && /[$.0-9]/.test(before)) name = undefined; // $var, 1e3, 0.99
    if (name && KEYWORDS.has(name.toLowerCase())) name = undefined; // `and {__name__="x"}`
    if (!name && !braces) continue;
    const matchers: MetricSelector["matchers"] = [];
    let metric = name ?? "";
    for (const part of (braces ?? "{}").slice(1, -1).split(",")) {
      const mm = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"(\d+)"\s*$/.exec(part);
      if (!mm) {
        if (part.trim()) throw new Error(`cannot read label matcher "${part}" in: ${expr}`);
        continue;
      }
      const value = strings[Number(mm[3])] ?? "";
      if (mm[1] === "__name__" && mm[2] === "=") metric = value;
      else matchers.push({ label: mm[1] as string, op: mm[2] as string, value });
    }
    if (!metric) throw new Error(`selector without a metric name in: ${expr}`);
    out.push({ metric, matchers });
  }
  return out;
}
