// A strict parser of the Prometheus text exposition format 0.0.4 (what prom-client writes and
// what every Prometheus client library serves on /metrics without content negotiation).
//
// Written here rather than taken from npm: the one maintained-looking package
// (parse-prometheus-text-format) ships no types, returns every value as a string and nests
// histogram buckets under families that the analysis would flatten straight back into
// samples. This parser returns samples as they are written and rejects what Prometheus itself
// would reject (a malformed line fails the whole scrape there too), so a broken exposition is
// an error with a line number, never silently missing numbers.

/** One sample line: a metric name, its labels and its value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  /** Milliseconds since the epoch, when the line carries one (prom-client never writes it). */
  timestampMs?: number;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const WHOLE_METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const METRIC_TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

/**
 * A number as the format writes it (Go's ParseFloat): decimal or exponent notation, `NaN`,
 * `+Inf`, `-Inf`. Also reads label values such as `le="+Inf"` and the values of the HTTP API.
 * Throws on anything else, including the empty string that `Number()` would read as 0.
 */
export function parsePrometheusFloat(text: string): number {
  if (/^\+?inf(inity)?$/i.test(text)) return Number.POSITIVE_INFINITY;
  if (/^-inf(inity)?$/i.test(text)) return Number.NEGATIVE_INFINITY;
  if (/^nan$/i.test(text)) return Number.NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) {
    throw new Error(`not a number: ${JSON.stringify(text)}`);
  }
  return Number(text);
}

/** Parses a text exposition into its samples, in order; throws naming the first bad line. */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  const typed = new Set<string>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    try {
      if (line.trim() === "") continue;
      if (line.startsWith("#")) {
        readComment(line, typed);
        continue;
      }
      samples.push(readSample(line));
    } catch (err) {
      throw new Error(
        `metrics line ${i + 1}: ${(err as Error).message}: ${JSON.stringify(line.slice(0, 200))}`,
      );
    }
  }
  return samples;
}

/** Checks `# TYPE` lines (known type, at most one per family); other comments are free text. */
function readComment(line: string, typed: Set<string>): void {
  const m = /^#[ \t]+TYPE[ \t]+(\S+)[ \t]+(\S+)[ \t]*$/.exec(line);
  if (m) {
    const [, name = "", type = ""] = m;
    if (!WHOLE_METRIC_NAME.test(name)) throw new Error(`invalid metric name in TYPE: ${name}`);
    if (!METRIC_TYPES.has(type)) throw new Error(`unknown metric type ${type}`);
    if (typed.has(name)) throw new Error(`second TYPE line for ${name}`);
    typed.add(name);
    return;
  }
  if (/^#[ \t]+TYPE\b/.test(line)) throw new Error("malformed TYPE line");
}

function readSample(line: string): Sample {
  const cursor = { s: line, at: 0 };
  const name = take(cursor, METRIC_NAME, "a metric name");
  const labels: Record<string, string> = {};
  const afterName = cursor.at;
  skipBlanks(cursor);
  if (cursor.s[cursor.at] === "{") {
    cursor.at++;
    readLabels(cursor, labels);
  } else {
    cursor.at = afterName;
  }
  if (!/[ \t]/.test(cursor.s[cursor.at] ?? "")) {
    throw new Error(`expected a blank before the value at column ${cursor.at + 1}`);
  }
  const fields = cursor.s
    .slice(cursor.at)
    .trim()
    .split(/[ \t]+/);
  if (fields[0] === "" || fields.length > 2) {
    throw new Error("expected a value and an optional timestamp");
  }
  const sample: Sample = { name, labels, value: parsePrometheusFloat(fields[0] ?? "") };
  if (fields[1] !== undefined) {
    if (!/^-?\d+$/.test(fields[1])) throw new Error(`bad timestamp ${fields[1]}`);
    sample.timestampMs = Number(fields[1]);
  }
  return sample;
}

/** Reads `name="value", ...}` after the opening brace (a trailing comma is allowed). */
function readLabels(cursor: { s: string; at: number }, labels: Record<string, string>): void {
  for (;;) {
    skipBlanks(cursor);
    if (cursor.s[cursor.at] === "}") {
      cursor.at++;
      return;
    }
    const label = take(cursor, LABEL_NAME, "a label name");
    if (Object.hasOwn(labels, label)) throw new Error(`label ${label} given twice`);
    skipBlanks(cursor);
    expectChar(cursor, "=");
    skipBlanks(cursor);
    expectChar(cursor, '"');
    labels[label] = readQuoted(cursor);
    skipBlanks(cursor);
    if (cursor.s[cursor.at] === ",") {
      cursor.at++;
      continue;
    }
    skipBlanks(cursor);
    expectChar(cursor, "}");
    return;
  }
}

/** Reads a label value up to its closing quote, undoing the format's three escapes. */
function readQuoted(cursor: { s: string; at: number }): string {
  let out = "";
  for (;;) {
    const c = cursor.s[cursor.at++];
    if (c === undefined) throw new Error("unterminated label value");
    if (c === '"') return out;
    if (c !== "\\") {
      out += c;
      continue;
    }
    const e = cursor.s[cursor.at++];
    if (e === "\\") out += "\\";
    else if (e === '"') out += '"';
    else if (e === "n") out += "\n";
    else throw new Error(`invalid escape \\${e ?? ""} in a label value`);
  }
}

function take(cursor: { s: string; at: number }, re: RegExp, what: string): string {
  const m = re.exec(cursor.s.slice(cursor.at));
  if (!m) throw new Error(`expected ${what} at column ${cursor.at + 1}`);
  cursor.at += m[0].length;
  return m[0];
}

function expectChar(cursor: { s: string; at: number }, c: string): void {
  if (cursor.s[cursor.at] !== c) throw new Error(`expected '${c}' at column ${cursor.at + 1}`);
  cursor.at++;
}

function skipBlanks(cursor: { s: string; at: number }): void {
  while (cursor.s[cursor.at] === " " || cursor.s[cursor.at] === "\t") cursor.at++;
}
