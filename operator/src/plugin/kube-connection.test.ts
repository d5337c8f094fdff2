import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { KubeApiError } from "../kube/kube-api-error.js";
import { apiFailure, connect } from "./kube-connection.js";
import { PluginError } from "./plugin-error.js";

const dir = mkdtempSync(join(tmpdir(), "kubectl-churn-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a kubeconfig with these contexts (each its own cluster) and current context. */
function kubeconfig(
  file: string,
  contexts: { name: string; server: string; namespace?: string }[],
  current?: string,
): string {
  const path = join(dir, file);
  const yaml = [
    "apiVersion: v1",
    "kind: Config",
    ...(current ? [`current-context: ${current}`] : []),
    "clusters:",
    ...contexts.flatMap((c) => [`- name: ${c.name}`, "  cluster:", `    server: ${c.server}`]),
    "users:",
    ...contexts.flatMap((c) => [`- name: ${c.name}`, "  user:", "    token: t"]),
    "contexts:",
    ...contexts.flatMap((c) => [
      `- name: ${c.name}`,
      "  context:",
      `    cluster: ${c.name}`,
      `    user: ${c.name}`,
      ...(c.namespace ? [`    namespace: ${c.namespace}`] : []),
    ]),
  ].join("\n");
  writeFileSync(path, `${yaml}\n`);
  return path;
}

const two = kubeconfig(
  "two",
  [
    { name: "dev", server: "https://dev.example:6443", namespace: "churn-dev" },
    { name: "prod", server: "https://prod.example:6443" },
  ],
  "dev",
);
const other = kubeconfig(
  "other",
  [
    { name: "dev", server: "https://shadowed.example:6443" },
    { name: "lab", server: "https://lab.example:6443", namespace: "lab-ns" },
  ],
  "lab",
);
const noHome = join(dir, "no-home");

describe("connect", () => {
  it.each([
    { what: "the current context and its namespace", flags: {}, server: "dev", ns: "churn-dev" },
    { what: "-n over the context's namespace", flags: { namespace: "x" }, server: "dev", ns: "x" },
    {
      what: "--context, default namespace",
      flags: { context: "prod" },
      server: "prod",
      ns: "default",
    },
  ])("uses $what", ({ flags, server, ns }) => {
    const c = connect({ kubeconfig: two, ...flags }, {}, noHome);
    expect(c.server).toBe(`https://${server}.example:6443`);
    expect(c.namespace).toBe(ns);
  });

  it("reads $KUBECONFIG as a list of files merged as kubectl does: the first wins", () => {
    const c = connect({}, { KUBECONFIG: `${two}:${other}` }, noHome);
    expect([c.server, c.namespace]).toEqual(["https://dev.example:6443", "churn-dev"]);
    const lab = connect({ context: "lab" }, { KUBECONFIG: `${two}:${other}` }, noHome);
    expect([lab.server, lab.namespace]).toEqual(["https://lab.example:6443", "lab-ns"]);
  });

  it("falls back to ~/.kube/config", () => {
    const home = join(dir, "home");
    mkdirSync(join(home, ".kube"), { recursive: true });
    writeFileSync(join(home, ".kube", "config"), "");
    kubeconfig(join("home", ".kube", "config"), [{ name: "h", server: "https://h:6443" }], "h");
    expect(connect({}, {}, home).server).toBe("https://h:6443");
  });

  it.each([
    {
      what: "an unknown context, naming the known ones",
      flags: { kubeconfig: two, context: "staging" },
      env: {},
      message: 'context "staging" is not in the kubeconfig (contexts: dev, prod)',
    },
    {
      what: "no current context",
      flags: { kubeconfig: kubeconfig("nocurrent", [{ name: "a", server: "https://a:1" }]) },
      env: {},
      message: "the kubeconfig has no current context: pass --context",
    },
    {
      what: "a missing file",
      flags: { kubeconfig: join(dir, "absent") },
      env: {},
      message: `cannot read the kubeconfig ${join(dir, "absent")}`,
    },
    {
      what: "no kubeconfig anywhere",
      flags: {},
      env: {},
      message: "no kubeconfig: pass --kubeconfig, set KUBECONFIG, or create ~/.kube/config",
    },
  ])("refuses $what", ({ flags, env, message }) => {
    expect(() => connect(flags, env, noHome)).toThrow(PluginError);
    expect(() => connect(flags, env, noHome)).toThrow(message);
  });
});

describe("apiFailure", () => {
  const conn = { server: "https://k:6443" };
  it.each([
    [
      new KubeApiError(0, "ConnectionError", "GET /x: ECONNREFUSED"),
      /^cannot reach the Kubernetes API at https:\/\/k:6443: GET \/x: ECONNREFUSED$/,
    ],
    [new KubeApiError(401, "Unauthorized", "GET /x: Unauthorized"), /refused the credentials/],
    [
      new KubeApiError(403, "Forbidden", 'PATCH /x: churnmodels "bank" is forbidden'),
      /^forbidden: PATCH/,
    ],
    [new KubeApiError(422, "Invalid", "PATCH /x: invalid"), /^PATCH \/x: invalid$/],
  ])("%s", (err, message) => {
    const e = apiFailure(err, conn);
    expect(e).toBeInstanceOf(PluginError);
    expect((e as Error).message).toMatch(message);
  });

  it("passes other errors through", () => {
    const e = new TypeError("bug");
    expect(apiFailure(e, conn)).toBe(e);
  });
});
