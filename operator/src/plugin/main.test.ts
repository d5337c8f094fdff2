import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { run } from "./main.js";
import { USAGE } from "./plugin-args.js";
import type { PluginIo } from "./plugin-io.js";

const dir = mkdtempSync(join(tmpdir(), "kubectl-churn-main-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A kubeconfig whose server refuses connections (port 1 on loopback). */
const unreachable = join(dir, "config");
writeFileSync(
  unreachable,
  [
    "apiVersion: v1",
    "kind: Config",
    "current-context: c",
    "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]",
    "users: [{name: c, user: {token: t}}]",
    "contexts: [{name: c, context: {cluster: c, user: c, namespace: ns}}]",
  ].join("\n"),
);

async function runWith(argv: string[], env: NodeJS.ProcessEnv = { KUBECONFIG: unreachable }) {
  let out = "";
  let err = "";
  const io: PluginIo = {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    outIsTTY: false,
    env,
    now: () => new Date("2026-01-01T00:00:00Z"),
    signal: new AbortController().signal,
  };
  const code = await run(argv, io);
  return { code, out, err };
}

describe("run", () => {
  it("prints the usage for --help and exits 0", async () => {
    expect(await runWith(["--help"])).toEqual({ code: 0, out: USAGE, err: "" });
  });

  it("exits 2 with the reason on a bad command line", async () => {
    const r = await runWith(["promote"]);
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/^kubectl churn: missing the ChurnModel's name/);
  });

  it.each([
    ["status", "bank"],
    ["promote", "bank"],
  ])("exits 1 naming the API server when it cannot be reached (%s)", async (...argv) => {
    const r = await runWith(argv);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^kubectl churn: cannot reach the Kubernetes API at https:\/\/127\.0\.0\.1:1: /,
    );
  });

  it("exits 1 when there is no kubeconfig", async () => {
    const r = await runWith(["status", "bank", "--kubeconfig", join(dir, "none")]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cannot read the kubeconfig/);
  });
});
