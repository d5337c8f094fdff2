import { parser } from "@prometheus-io/lezer-promql";

/** One metric selector in an expression: the name and its label matchers. */
export interface MetricSelector {
  metric: string;
  matchers: { label: string; op: string; value: string }[];
}

// Grafana's range variables are not PromQL; any valid duration parses the same.
const GRAFANA_RANGES =
  /\$__(rate_interval|interval|range)\b|\$\{__(rate_interval|interval|range)\}/g;

function unquote(literal: string): string {
  if (literal.startsWith("`")) return literal.slice(1, -1);
  if (literal.startsWith("'")) return JSON.parse(`"${literal.slice(1, -1).replace(/"/g, '\\"')}"`);
  return JSON.parse(literal) as string;
}

/** A node of the parsed tree (the type lives in @lezer/common, which we do not depend on). */
type SyntaxNode = ReturnType<typeof parser.parse>["topNode"];

/** The metric name and label matchers of one VectorSelector node (`__name__="x"` names it). */
function vectorSelector(node: SyntaxNode, src: string, expr: string): MetricSelector {
  const id = node.getChild("Identifier");
  const selector: MetricSelector = { metric: id ? src.slice(id.from, id.to) : "", matchers: [] };
  for (const m of node.getChild("LabelMatchers")?.getChildren("UnquotedLabelMatcher") ?? []) {
    const part = (name: string) => {
      const child = m.getChild(name);
      if (!child) throw new Error(`label matcher without ${name} in: ${expr}`);
      return src.slice(child.from, child.to);
    };
    const label = part("LabelName");
    const op = part("MatchOp");
    const value = unquote(part("StringLiteral"));
    if (label === "__name__" && op === "=") selector.metric = value;
    else selector.matchers.push({ label, op, value });
  }
  if (!selector.metric) throw new Error(`selector without a metric name in: ${expr}`);
  return selector;
}

/**
 * Parses a PromQL expression with Prometheus's own grammar (the one its UI uses) and returns
 * every vector selector's metric name and label matchers. A syntax error throws, naming the
 * position, so a broken alert or panel query fails its test.
 */
export function promqlSelectors(expr: string): MetricSelector[] {
  const src = expr.replace(GRAFANA_RANGES, "5m");
  const tree = parser.parse(src);
  const out: MetricSelector[] = [];
  const cursor = tree.cursor();
  do {
    if (cursor.type.isError) {
      const at = cursor.from;
      throw new Error(`PromQL syntax error at ${at} ("${src.slice(at, at + 20)}") in: ${expr}`);
    }
    if (cursor.name === "VectorSelector") out.push(vectorSelector(cursor.node, src, expr));
  } while (cursor.next());
  return out;
}
