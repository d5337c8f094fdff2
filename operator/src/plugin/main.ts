// `kubectl churn`, the kubectl plugin for manual rollout control (bin/kubectl-churn.js runs the
// compiled form). Wiring only: arguments, connection, the command, exit status, signals.
import { actionCommand } from "./action-command.js";
import { connect } from "./kube-connection.js";
import { parsePluginArgs, USAGE } from "./plugin-args.js";
import { ExitCode, PluginError } from "./plugin-error.js";
import type { PluginIo } from "./plugin-io.js";
import { statusCommand } from "./status-command.js";

/** Runs the plugin with these arguments (those after `kubectl churn`); resolves to the exit code. */
export async function run(argv: readonly string[], io: PluginIo = processIo()): Promise<number> {
  try {
    const args = parsePluginArgs(argv);
    if (args === "help") {
      io.out(USAGE);
      return ExitCode.ok;
    }
    const conn = connect(args, io.env);
    const command =
      args.command === "status" ? statusCommand(args, conn, io) : actionCommand(args, conn, io);
    // Ctrl-C ends the command at once even mid-request; the commands clean up on the same signal.
    const interrupted = new Promise<number>((resolve) => {
      if (io.signal.aborted) resolve(ExitCode.interrupted);
      io.signal.addEventListener("abort", () => resolve(ExitCode.interrupted), { once: true });
    });
    return await Promise.race([command, interrupted]);
  } catch (err) {
    io.err(`kubectl churn: ${err instanceof Error ? err.message : String(err)}\n`);
    return err instanceof PluginError ? err.exitCode : ExitCode.failed;
  }
}

function processIo(): PluginIo {
  const stop = new AbortController();
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => stop.abort());
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    outIsTTY: process.stdout.isTTY === true,
    env: process.env,
    now: () => new Date(),
    signal: stop.signal,
  };
}
