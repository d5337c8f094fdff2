/** Exit statuses of `kubectl churn`, documented in operator/README.md for scripts. */
export const ExitCode = {
  ok: 0,
  /** Refused (nothing to do, no such ChurnModel), or the operator acted but nothing moved. */
  failed: 1,
  /** Bad command line. */
  usage: 2,
  /** The operator did not handle the action in time; the annotation stays for it. */
  notHandled: 3,
  /** Stopped by Ctrl-C, as a shell reports SIGINT. */
  interrupted: 130,
} as const;

/** An error meant for the user: its message is printed as is, then the process exits. */
export class PluginError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.failed,
  ) {
    super(message);
    this.name = "PluginError";
  }
}
