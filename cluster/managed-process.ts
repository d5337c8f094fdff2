import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";

/** A background process the cluster started, as recorded in the state file. */
export interface ManagedProcess {
  name: string;
  pid: number;
  /** First word of the command line, used to make sure a recorded pid was not reused. */
  exe: string;
  log: string;
}

/**
 * Starts a long-running component in its own process group, detached from the caller so it
 * outlives `npm run cluster up`, with stdout and stderr appended to `log`.
 */
export function startProcess(
  name: string,
  exe: string,
  args: string[],
  log: string,
  opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): ManagedProcess {
  const fd = openSync(log, "a");
  try {
    const child = spawn(exe, args, {
      detached: true,
      stdio: ["ignore", fd, fd],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
    });
    if (child.pid === undefined) throw new Error(`could not start ${name} (${exe})`);
    child.unref();
    return { name, pid: child.pid, exe, log };
  } finally {
    closeSync(fd);
  }
}

/** True while the recorded process still runs the same executable (guards against pid reuse). */
export function isRunning(proc: ManagedProcess): boolean {
  try {
    const cmdline = readFileSync(`/proc/${proc.pid}/cmdline`, "utf8");
    const stat = readFileSync(`/proc/${proc.pid}/stat`, "utf8");
    // A zombie has exited; it only waits for its parent to reap it.
    if (/\) Z /.test(stat)) return false;
    return cmdline.split("\0")[0] === proc.exe;
  } catch {
    return false;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {}
  }
}

/** Waits until `check` is true or `ms` elapse; returns the last result. */
async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

/** SIGTERM to the process group, then SIGKILL after `graceMs`; resolves once it is gone. */
export async function stopProcess(proc: ManagedProcess, graceMs = 10_000): Promise<void> {
  if (!isRunning(proc)) return;
  signalGroup(proc.pid, "SIGTERM");
  if (await waitFor(() => !isRunning(proc), graceMs)) return;
  signalGroup(proc.pid, "SIGKILL");
  if (!(await waitFor(() => !isRunning(proc), 5000))) {
    throw new Error(`${proc.name} (pid ${proc.pid}) survived SIGKILL`);
  }
}
