import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { parsePrometheusFloat, parsePrometheusText, type Sample } from "./prometheus-text.js";

const find = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );

describe("parsePrometheusText on prom-client's own output", () => {
  it("reads counters by label, a histogram's buckets, sum and count", async () => {
    const registry = new Registry();
    const requests = new Counter({
      name: "http_requests_total",
      help: "requests",
      labelNames: ["route", "code"],
      registers: [registry],
    });
    const duration = new Histogram({
      name: "http_request_duration_seconds",
      help: "latency",
      labelNames: ["route"],
      buckets: [0.005, 0.1, 1],
      registers: [registry],
    });
    requests.inc({ route: "/v1/score", code: "200" }, 41);
    requests.inc({ route: "/v1/score", code: "500" }, 2);
    requests.inc({ route: "/healthz", code: "200" });
    for (const v of [0.001, 0.05, 0.05, 0.5, 3]) duration.observe({ route: "/v1/score" }, v);

    const samples = parsePrometheusText(await registry.metrics());

    expect(find(samples, "http_requests_total").map((s) => [s.labels, s.value])).toEqual([
      [{ route: "/v1/score", code: "200" }, 41],
      [{ route: "/v1/score", code: "500" }, 2],
      [{ route: "/healthz", code: "200" }, 1],
    ]);
    expect(
      find(samples, "http_request_duration_seconds_bucket").map((s) => [s.labels.le, s.value]),
    ).toEqual([
      ["0.005", 1],
      ["0.1", 3],
      ["1", 4],
      ["+Inf", 5],
    ]);
    expect(find(samples, "http_request_duration_seconds_count")[0]?.value).toBe(5);
    expect(find(samples, "http_request_duration_seconds_sum")[0]?.value).toBeCloseTo(3.601, 9);
  });

  it("undoes label escapes: quotes, backslashes and newlines come back as written", async () => {
    const registry = new Registry();
    const c = new Counter({
      name: "odd_total",
      help: 'help with a \\ backslash,\na newline and "quotes"',
      labelNames: ["path"],
      registers: [registry],
    });
    const nasty = 'C:\\dir\\"quoted"\nnext line, {braces}=1 # not a comment';
    c.inc({ path: nasty }, 7);

    expect(find(parsePrometheusText(await registry.metrics()), "odd_total")).toEqual([
      { name: "odd_total", labels: { path: nasty }, value: 7 },
    ]);
  });

  it("reads NaN and infinities as prom-client writes them", async () => {
    const registry = new Registry();
    new Gauge({ name: "nan_gauge", help: "g", registers: [registry] }).set(Number.NaN);
    new Gauge({ name: "inf_gauge", help: "g", registers: [registry] }).set(Infinity);
    new Gauge({ name: "minus_inf_gauge", help: "g", registers: [registry] }).set(-Infinity);
    new Gauge({ name: "tiny_gauge", help: "g", registers: [registry] }).set(1.5e-12);

    const samples = parsePrometheusText(await registry.metrics());

    expect(find(samples, "nan_gauge")[0]?.value).toBeNaN();
    expect(find(samples, "inf_gauge")[0]?.value).toBe(Infinity);
    expect(find(samples, "minus_inf_gauge")[0]?.value).toBe(-Infinity);
    expect(find(samples, "tiny_gauge")[0]?.value).toBe(1.5e-12);
  });

  it("reads a whole registry with Node's default process metrics", async () => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const text = await registry.metrics();

    const samples = parsePrometheusText(text);

    const sampleLines = text.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
    expect(samples).toHaveLength(sampleLines.length);
    const start = find(samples, "process_start_time_seconds")[0]?.value ?? 0;
    expect(Math.abs(start - Date.now() / 1000)).toBeLessThan(24 * 3600);
  });
});

describe("parsePrometheusText strictness", () => {
  it.each([
    ["a value that is not a number", "x_total 12abc"],
    ["no value", "x_total"],
    ["no value after labels", 'x_total{a="b"}'],
    ["no blank before the value", 'x_total{a="b"}1'],
    ["an unterminated label value", 'x_total{a="b} 1'],
    ["an unquoted label value", "x_total{a=b} 1"],
    ["a label given twice", 'x_total{a="1",a="2"} 1'],
    ["an unknown escape", 'x_total{a="\\t"} 1'],
    ["an invalid metric name", "1x_total 1"],
    ["trailing garbage", "x_total 1 2 3"],
    ["a non-integer timestamp", "x_total 1 1.5"],
    ["an unknown TYPE", "# TYPE x_total countr"],
    ["a second TYPE for a family", "# TYPE ok gauge"],
  ])("rejects %s, naming the line", (_, text) => {
    const exposition = `# HELP ok fine\n# TYPE ok counter\nok 1\n${text}\nok 2\n`;
    expect(() => parsePrometheusText(exposition)).toThrow(/^metrics line 4: /);
  });

  it("accepts what the format allows beyond prom-client's habits", () => {
    const text = [
      "# a free comment",
      "# HELP x_total with spaces   and \\\\ escapes",
      "# TYPE x_total counter",
      'x_total{a="1",} 2 1700000000000',
      "x_total\t3",
      'y_seconds{ le = "+Inf" } -Inf',
      "",
    ].join("\n");

    expect(parsePrometheusText(text)).toEqual([
      { name: "x_total", labels: { a: "1" }, value: 2, timestampMs: 1700000000000 },
      { name: "x_total", labels: {}, value: 3 },
      { name: "y_seconds", labels: { le: "+Inf" }, value: -Infinity },
    ]);
  });
});

describe("parsePrometheusFloat", () => {
  it.each([
    ["0", 0],
    ["-1.5", -1.5],
    ["1e3", 1000],
    [".5", 0.5],
    ["+Inf", Infinity],
    ["-Inf", -Infinity],
  ])("reads %s", (text, value) => {
    expect(parsePrometheusFloat(text)).toBe(value);
  });

  it.each(["", " 1", "0x10", "1,5", "one"])("refuses %j", (text) => {
    expect(() => parsePrometheusFloat(text)).toThrow(/not a number/);
  });
});
