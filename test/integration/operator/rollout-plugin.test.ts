import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { noProcessNode, testCluster, waitFor } from "../../../cluster/testing/index.js";
import { RolloutAnnotations } from "../../../operator/src/controllers/churnmodel/churn-model-controller.js";
import { installKubectlChurn, type KubectlChurn } from "./support/kubectl-churn.js";
import { rolloutSuite } from "./support/rollout-env.js";
import { eventReasons } from "./support/status.js";
import type { SteadyLoad } from "./support/steady-load.js";

// Manual control of a rollout with `kubectl churn`, run as a user runs it: the real kubectl
// finding the package's plugin on PATH, with the admin kubeconfig, against a real operator. A
// rollout waits at a `pause: {}` until promoted; a second one is aborted, then retried; an
// action the operator cannot handle (it is stopped) waits on the object until it is back.
describe.skipIf(noProcessNode)("kubectl churn: manual rollout control", () => {
  let load: SteadyLoad;
  let plugin: KubectlChurn;
  const rollout = {
    trafficRouting: "replicas" as const,
    steps: [{ setWeight: 50 }, { pause: {} }],
    analysis: { intervalSeconds: 5, minSamples: 20 },
  };
  const bank = rolloutSuite("plugin", { rollout: () => rollout });
  const digest = (v: string) => bank.digest(v);
  const short = (v: string) => digest(v).slice(0, 12);
  const churn = (...args: string[]) => plugin.run([...args, "-n", bank.env.ns]);

  beforeAll(() => {
    plugin = installKubectlChurn(testCluster().kubeconfig);
    // Analysis passes only on traffic: a steady load through the model's Service throughout.
    load = bank.serviceLoad("v1", 500, 40).start();
  });

  afterAll(async () => {
    await load?.stop();
    plugin?.remove();
  });

  it("says which ChurnModel it could not find, and where it looked", async () => {
    const r = await churn("status", "nosuch");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`ChurnModel "nosuch" not found in namespace "${bank.env.ns}"`);
  });

  it("status draws the paused step and the canary; promote promotes it", async () => {
    await bank.roll("v2", rollout);
    await bank.until("paused at step 2", (m) => m.status?.rollout?.phase === "Paused");

    const status = await churn("status", "bank");
    expect(status.code).toBe(0);
    const lines = status.stdout.split("\n");
    expect(lines).toContain("Status:        ॥ Paused");
    expect(lines).toContain(`Stable:        ${short("v1")} (v1)`);
    expect(lines).toContain(`Canary:        ${short("v2")} (v2)`);
    expect(lines).toContain("  ✔ 1. canary weight 50%");
    expect(lines.some((l) => l.startsWith("  ► 2. pause until promoted "))).toBe(true);
    expect(status.stdout).toMatch(/^Analysis: +✔ Pass, score 100 /m);
    expect(status.stdout).not.toContain("\x1b["); // not a terminal: no colours

    const watching = plugin.start(["status", "bank", "--watch", "-n", bank.env.ns]);
    await waitFor("status --watch to draw", () => watching.stdout().includes("॥ Paused"));
    const promote = await churn("promote", "bank");
    expect(promote.stderr).toMatch(/^promote: asked ChurnModel .* waiting up to 60 s/);
    expect(promote).toMatchObject({
      code: 0,
      stdout: `ChurnModel ${bank.env.ns}/bank: promoted ${short("v2")} (v2) after its last step: it is the stable version now\n`,
    });
    const m = await bank.current();
    expect(m.status?.rollout).toMatchObject({
      phase: "Promoted",
      stable: { digest: digest("v2") },
    });
    // --watch redrew on the change by itself, and Ctrl-C ends it.
    await waitFor("status --watch to redraw", () =>
      watching.stdout().includes("Status:        ✔ Promoted\n"),
    );
    expect(await watching.interrupt()).toBe(130);

    const again = await churn("promote", "bank");
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("no rollout in progress");
    expect(again.stderr).toContain("(the last one: Promoted): nothing to promote");
  });

  it("abort sends a second version's traffic back to stable; retry starts it again", async () => {
    const nothing = await churn("retry", "bank");
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain("nothing to retry");

    await bank.roll("v1", rollout);
    await bank.until(
      "v1 canary taking traffic",
      (m) =>
        m.status?.rollout?.canary?.digest === digest("v1") &&
        (m.status.rollout.effectiveWeight ?? 0) > 0,
    );
    const abort = await churn("abort", "bank");
    expect(abort).toMatchObject({
      code: 0,
      stdout: `ChurnModel ${bank.env.ns}/bank: aborted ${short("v1")} (v1): all traffic back on stable ${short("v2")} (v2) (canary weight 0)\n`,
    });
    const aborted = await bank.current();
    expect(aborted.status?.rollout).toMatchObject({
      phase: "Aborted",
      stable: { digest: digest("v2") },
      effectiveWeight: 0,
      desiredWeight: 0,
    });
    expect(aborted.status?.rollout?.canary).toBeUndefined();
    expect(aborted.status?.rollout?.rolledBackDigests).toContain(digest("v1"));
    const shown = await churn("status", "bank");
    expect(shown.stdout).toContain("Status:        ✖ Aborted\n");
    expect(shown.stdout).toContain("Weight:        canary 0%: all traffic on stable\n");
    expect(shown.stdout).toMatch(
      new RegExp(`^ {2}✖ Aborted +${short("v1")} +${short("v2")} +Aborted `, "m"),
    );

    const retry = await churn("retry", "bank");
    expect(retry).toMatchObject({
      code: 0,
      stdout: `ChurnModel ${bank.env.ns}/bank: retrying ${short("v1")} (v1): the rollout starts again at step 1/2\n`,
    });
    const retried = await bank.current();
    expect(retried.status?.rollout?.canary?.digest).toBe(digest("v1"));
    expect(retried.status?.rollout?.rolledBackDigests ?? []).not.toContain(digest("v1"));
    expect(["Progressing", "Paused", "Inconclusive"]).toContain(retried.status?.rollout?.phase);
    expect(await eventReasons(bank.env.client, bank.env.ns, "bank")).toContain("Retried");

    const busy = await churn("retry", "bank");
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain("promote or abort it first");
  });

  it("an action the operator does not handle in time stays on the object until it is back", async () => {
    await bank.op.kill("SIGTERM"); // releases its Lease: the next operator takes over at once
    const r = await churn("abort", "bank", "--timeout", "3s");
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("the operator has not handled the abort");
    expect(r.stderr).toContain("is it running?");
    expect(r.stderr).toContain("The annotation stays on ChurnModel");
    const id = /\(action id ([0-9a-f-]+)\)/.exec(r.stderr)?.[1];
    const pending = await bank.current();
    expect(pending.metadata?.annotations).toMatchObject({
      [RolloutAnnotations.action]: "abort",
      [RolloutAnnotations.actionId]: id,
    });
    expect(pending.status?.rollout?.canary?.digest).toBe(digest("v1"));

    bank.op = await bank.env.startOperator("op-plugin-2");
    const done = await bank.until("the pending abort handled", (m) =>
      (m.status?.rollout?.handledActions ?? []).includes(id ?? "?"),
    );
    expect(done.status?.rollout).toMatchObject({
      phase: "Aborted",
      stable: { digest: digest("v2") },
    });
  });
});
