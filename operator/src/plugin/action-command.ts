// `kubectl churn promote|abort|retry NAME`: refuse what would do nothing, write the two
// annotations with a fresh id (a JSON merge patch), wait with a deadline until the operator
// records that id as handled, then say what happened.
import { randomUUID } from "node:crypto";
import type { ChurnModel } from "../api/churn-model.js";
import { RolloutAnnotations } from "../controllers/churnmodel/churn-model-controller.js";
import { churnModelType } from "../controllers/shared/custom-resources.js";
import { apiFailure, type KubeConnection } from "./kube-connection.js";
import {
  type ActionKind,
  actionHandled,
  actionOutcome,
  actionPatch,
  refuseAction,
} from "./manual-action.js";
import { watchModel } from "./model-watch.js";
import type { PluginArgs } from "./plugin-args.js";
import { ExitCode, PluginError } from "./plugin-error.js";
import type { PluginIo } from "./plugin-io.js";
import { pluginLogger } from "./plugin-logger.js";
import { readModel } from "./read-model.js";

/** How often a waiting action says it is still waiting. */
const PROGRESS_EVERY_MS = 10_000;

/** The action a command line asks for. */
export function actionKindOf(args: Pick<PluginArgs, "command" | "full">): ActionKind {
  if (args.command === "status") throw new Error("status is not an action");
  return args.command === "promote" && args.full ? "promote-full" : args.command;
}

/** Runs promote, abort or retry; resolves to the exit code. */
export async function actionCommand(
  args: PluginArgs,
  conn: KubeConnection,
  io: PluginIo,
  newId: () => string = randomUUID,
): Promise<number> {
  const kind = actionKindOf(args);
  const where = `ChurnModel ${conn.namespace}/${args.name}`;
  const before = await readModel(conn, args.name);
  const refusal = refuseAction(kind, before);
  if (refusal) throw new PluginError(refusal);
  const id = newId();
  try {
    await conn.client.mergePatch(churnModelType, conn.namespace, args.name, actionPatch(kind, id));
  } catch (err) {
    throw apiFailure(err, conn);
  }
  const seconds = Math.round(args.timeoutMs / 1000);
  io.err(
    `${kind}: asked ${where} (action id ${id}); waiting up to ${seconds} s for the operator\n`,
  );
  const stays =
    `The annotation stays on ${where}: the operator carries it out when it is back. To withdraw ` +
    `it: kubectl annotate churnmodel ${args.name} -n ${conn.namespace} ` +
    `${RolloutAnnotations.action}- ${RolloutAnnotations.actionId}-`;
  const after = await waitUntilHandled(conn, args.name, id, args.timeoutMs, io, kind);
  if (after === "interrupted") {
    io.err(`stopped waiting. ${stays}\n`);
    return ExitCode.interrupted;
  }
  if (!after)
    throw new PluginError(
      `the operator has not handled the ${kind} (action id ${id}) within ${seconds} s: is it running? ` +
        `(kubectl get pods -A -l app.kubernetes.io/component=operator)\n${stays}`,
      ExitCode.notHandled,
    );
  const outcome = actionOutcome(kind, before, after);
  if (!outcome.ok) throw new PluginError(outcome.message);
  io.out(`${where}: ${outcome.message}\n`);
  return ExitCode.ok;
}

/** The model once action `id` is handled; undefined at the deadline; "interrupted" on Ctrl-C. */
function waitUntilHandled(
  conn: KubeConnection,
  name: string,
  id: string,
  timeoutMs: number,
  io: PluginIo,
  kind: ActionKind,
): Promise<ChurnModel | undefined | "interrupted"> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let settled = false;
    const deadline = setTimeout(() => end(() => resolve(undefined)), timeoutMs);
    const progress = setInterval(() => {
      const s = Math.round((Date.now() - started) / 1000);
      io.err(
        `${kind}: still waiting for the operator (${s} s of ${Math.round(timeoutMs / 1000)} s)\n`,
      );
    }, PROGRESS_EVERY_MS);
    const watch = watchModel(conn.client, conn.namespace, name, pluginLogger(io.err), {
      changed: (m) => {
        if (actionHandled(m, id)) end(() => resolve(m));
      },
      deleted: () =>
        end(() =>
          reject(new PluginError(`ChurnModel ${conn.namespace}/${name} was deleted meanwhile`)),
        ),
    });
    function end(settle: () => void) {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      clearInterval(progress);
      io.signal.removeEventListener("abort", interrupted);
      void watch.stop().then(settle, settle);
    }
    function interrupted() {
      end(() => resolve("interrupted"));
    }
    if (io.signal.aborted) interrupted();
    else io.signal.addEventListener("abort", interrupted, { once: true });
  });
}
