// `kubectl churn status NAME [--watch]`: draws the rollout once, or redraws it on every change
// of the object until Ctrl-C.
import type { ChurnModel } from "../api/churn-model.js";
import type { KubeConnection } from "./kube-connection.js";
import { watchModel } from "./model-watch.js";
import { colorWanted } from "./palette.js";
import type { PluginArgs } from "./plugin-args.js";
import { ExitCode, PluginError } from "./plugin-error.js";
import type { PluginIo } from "./plugin-io.js";
import { pluginLogger } from "./plugin-logger.js";
import { readModel } from "./read-model.js";
import { renderRolloutStatus } from "./render-status.js";

/** Cursor home and clear screen: a terminal redraws in place. */
const CLEAR = "\x1b[H\x1b[2J";

/** Runs `status`; resolves to the exit code. */
export async function statusCommand(
  args: PluginArgs,
  conn: KubeConnection,
  io: PluginIo,
): Promise<number> {
  const model = await readModel(conn, args.name);
  const color = colorWanted(io.outIsTTY, io.env);
  if (!args.watch) {
    io.out(renderRolloutStatus(model, io.now(), { color }));
    return ExitCode.ok;
  }
  let latest = model;
  let drawn = "";
  const draw = () => {
    const text = renderRolloutStatus(latest, io.now(), { color });
    if (text === drawn) return;
    // A terminal redraws in place; a pipe or file gets each new state after a blank line.
    io.out(io.outIsTTY ? CLEAR + text : `${drawn ? "\n" : ""}${text}`);
    drawn = text;
  };
  draw();
  return new Promise<number>((resolve, reject) => {
    let settled = false;
    // On a terminal the ages ("12s ago") tick; a pipe gets a new drawing only on a change.
    const tick = io.outIsTTY ? setInterval(draw, 1000) : undefined;
    const watch = watchModel(conn.client, conn.namespace, args.name, pluginLogger(io.err), {
      changed: (m: ChurnModel) => {
        latest = m;
        draw();
      },
      deleted: () =>
        end(() => reject(new PluginError(`ChurnModel ${conn.namespace}/${args.name} was deleted`))),
    });
    function end(settle: () => void) {
      if (settled) return;
      settled = true;
      clearInterval(tick);
      io.signal.removeEventListener("abort", interrupted);
      void watch.stop().then(settle, settle);
    }
    function interrupted() {
      end(() => resolve(ExitCode.interrupted));
    }
    if (io.signal.aborted) interrupted();
    else io.signal.addEventListener("abort", interrupted, { once: true });
  });
}
