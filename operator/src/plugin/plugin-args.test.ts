import { describe, expect, it } from "vitest";
import {
  DEFAULT_TIMEOUT_MS,
  type PluginArgs,
  parseDuration,
  parsePluginArgs,
} from "./plugin-args.js";
import { ExitCode, PluginError } from "./plugin-error.js";

const base: PluginArgs = {
  command: "status",
  name: "bank",
  namespace: undefined,
  context: undefined,
  kubeconfig: undefined,
  full: false,
  watch: false,
  timeoutMs: DEFAULT_TIMEOUT_MS,
};

describe("parsePluginArgs", () => {
  it.each<[string, PluginArgs]>([
    ["status bank", base],
    ["status bank -n churn-demo", { ...base, namespace: "churn-demo" }],
    ["status -n churn-demo bank", { ...base, namespace: "churn-demo" }],
    ["status bank --namespace=churn-demo -w", { ...base, namespace: "churn-demo", watch: true }],
    ["status bank --watch --context kind-a", { ...base, watch: true, context: "kind-a" }],
    ["status bank --kubeconfig /tmp/kc", { ...base, kubeconfig: "/tmp/kc" }],
    ["promote bank", { ...base, command: "promote" }],
    ["promote bank --full", { ...base, command: "promote", full: true }],
    ["abort bank --timeout 2m", { ...base, command: "abort", timeoutMs: 120_000 }],
    ["retry bank --timeout=90", { ...base, command: "retry", timeoutMs: 90_000 }],
  ])("%s", (line, want) => {
    expect(parsePluginArgs(line.split(" "))).toEqual(want);
  });

  it.each([["--help"], ["-h"], ["help"], ["promote", "bank", "-h"]])(
    "%s asks for help",
    (...argv) => {
      expect(parsePluginArgs(argv)).toBe("help");
    },
  );

  it.each([
    ["", /missing command/],
    ["scale bank", /unknown command "scale": status, promote, abort or retry/],
    ["status", /missing the ChurnModel's name: kubectl churn status NAME/],
    ["promote bank other", /one ChurnModel at a time; unexpected: other/],
    ["abort bank --full", /--full applies to promote only/],
    ["promote bank --watch", /--watch applies to status only/],
    ["status bank --timeout 5s", /--timeout applies to promote, abort and retry/],
    ["promote bank --timeout soon", /invalid duration "soon"/],
    ["promote bank --timeout 500ms", /too short/],
    ["status bank --bogus", /^Unknown option '--bogus'\n/],
    ["status bank -n", /argument missing/],
    ["status bank --namespace=", /--namespace needs a value/],
  ])("refuses %j as a usage error (exit 2)", (line, message) => {
    let err: unknown;
    try {
      parsePluginArgs(line ? line.split(" ") : []);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PluginError);
    expect((err as PluginError).exitCode).toBe(ExitCode.usage);
    expect((err as PluginError).message).toMatch(message);
    expect((err as PluginError).message).toMatch(/Run 'kubectl churn --help' for usage\.$/);
  });
});

describe("parseDuration", () => {
  it.each([
    ["30", 30_000],
    ["30s", 30_000],
    ["1.5s", 1500],
    ["1500ms", 1500],
    ["2m", 120_000],
  ])("%s -> %d ms", (text, ms) => expect(parseDuration(text)).toBe(ms));
});
