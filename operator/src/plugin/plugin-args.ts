// The command line of `kubectl churn`. kubectl hands a plugin every argument after its name,
// global flags included, so `--context`, `--kubeconfig` and `-n` are read here.
import { parseArgs } from "node:util";
import { ExitCode, PluginError } from "./plugin-error.js";

/** The subcommands. */
export const COMMANDS = ["status", "promote", "abort", "retry"] as const;
/** A subcommand. */
export type Command = (typeof COMMANDS)[number];

/** What to do, as parsed. */
export interface PluginArgs {
  command: Command;
  /** The ChurnModel. */
  name: string;
  /** From -n/--namespace; undefined means the context's namespace. */
  namespace?: string;
  context?: string;
  kubeconfig?: string;
  /** promote --full: promote the canary now, skipping the remaining steps. */
  full: boolean;
  /** status --watch: redraw on every change until Ctrl-C. */
  watch: boolean;
  /** How long an action waits for the operator to handle it. */
  timeoutMs: number;
}

/** Default wait for the operator to handle an action. */
export const DEFAULT_TIMEOUT_MS = 60_000;

/** The help text. */
export const USAGE = `Manual control of ChurnModel canary rollouts.

usage: kubectl churn status  NAME [-n NS] [--watch]
       kubectl churn promote NAME [-n NS] [--full] [--timeout 60s]
       kubectl churn abort   NAME [-n NS] [--timeout 60s]
       kubectl churn retry   NAME [-n NS] [--timeout 60s]

  status   draw the rollout: versions, weights, steps, the last analysis, recent rollouts
  promote  finish the current step (e.g. leave a \`pause: {}\`); --full promotes the canary now
  abort    send all traffic back to the stable version (canary weight 0)
  retry    roll out again a version that was rolled back or aborted

options:
  -n, --namespace NS   namespace of the ChurnModel (default: the context's, else "default")
      --context NAME   kubeconfig context to use (default: the current one)
      --kubeconfig F   kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)
  -w, --watch          status: redraw on every change until Ctrl-C
      --full           promote: promote the canary at once instead of finishing one step
      --timeout T      actions: how long to wait for the operator (e.g. 30s, 2m; default 60s)
  -h, --help

Actions write the annotations churn.mlops.dev/rollout-action and churn.mlops.dev/rollout-action-id
(a new id each time) and wait until the operator records the id in status.rollout.handledActions.
Exit status: 0 done, 1 refused or nothing happened, 2 bad usage, 3 the operator did not handle
the action in time (the annotation stays: the operator carries it out when it is back).
`;

const usage = (message: string) =>
  new PluginError(`${message}\nRun 'kubectl churn --help' for usage.`, ExitCode.usage);

/** Reads a duration: a number of seconds, or with a unit (500ms, 30s, 2m). */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw usage(`invalid duration "${text}": write e.g. 30s or 2m`);
  const unit = { ms: 1, s: 1000, m: 60_000 }[(m[2] ?? "s") as "ms" | "s" | "m"];
  const ms = Math.round(Number(m[1]) * unit);
  if (ms < 1000) throw usage(`--timeout ${text} is too short: at least 1s`);
  return ms;
}

/** Parses the plugin's arguments; "help" when help was asked for. Throws usage errors. */
export function parsePluginArgs(argv: readonly string[]): PluginArgs | "help" {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    // node:util's messages go on with advice about `--`; the first sentence says it.
    throw usage((err as Error).message.split(". ")[0] as string);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals[0] === "help") return "help";
  const { command, name } = commandAndName(positionals);
  checkFlags(command, values);
  return {
    command,
    name,
    namespace: values.namespace,
    context: values.context,
    kubeconfig: values.kubeconfig,
    full: values.full ?? false,
    watch: values.watch ?? false,
    timeoutMs: values.timeout === undefined ? DEFAULT_TIMEOUT_MS : parseDuration(values.timeout),
  };
}

/** The command and the one ChurnModel's name; throws usage errors for anything else. */
function commandAndName(positionals: readonly string[]): { command: Command; name: string } {
  const [command, name, ...extra] = positionals;
  if (!command) throw usage("missing command: status, promote, abort or retry");
  if (!(COMMANDS as readonly string[]).includes(command))
    throw usage(`unknown command "${command}": status, promote, abort or retry`);
  if (!name) throw usage(`missing the ChurnModel's name: kubectl churn ${command} NAME`);
  if (extra.length) throw usage(`one ChurnModel at a time; unexpected: ${extra.join(" ")}`);
  return { command: command as Command, name };
}

/** Refuses flags that do not apply to `command` and empty values. */
function checkFlags(command: Command, values: ReturnType<typeof parse>["values"]): void {
  if (values.full && command !== "promote") throw usage("--full applies to promote only");
  if (values.watch && command !== "status") throw usage("--watch applies to status only");
  if (values.timeout !== undefined && command === "status")
    throw usage("--timeout applies to promote, abort and retry");
  for (const flag of ["namespace", "context", "kubeconfig"] as const) {
    if (values[flag] === "") throw usage(`--${flag} needs a value`);
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      namespace: { type: "string", short: "n" },
      context: { type: "string" },
      kubeconfig: { type: "string" },
      full: { type: "boolean" },
      watch: { type: "boolean", short: "w" },
      timeout: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}
