import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** A host path shown to the container at `target` (bind mount in its mount namespace). */
export interface ContainerMount {
  source: string;
  target: string;
  readOnly: boolean;
}

/** Everything needed to start one container process. */
export interface ContainerLaunch {
  netns: string;
  argv: string[];
  env: Record<string, string>;
  workingDir: string;
  mounts: ContainerMount[];
  /** Receives stdout and stderr. */
  logFile: string;
  /** Where the generated start script is written (kept for debugging). */
  scriptFile: string;
  /** Records host paths created as mount points, so `cluster down` can remove them. */
  createdMountPoints: string;
  /** Candidate staging directories, in order of preference (see {@link stagingDir}). */
  stageCandidates: string[];
}

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * Creates a missing mount point on the host (a directory, or an empty file when the source is
 * a file) and records the topmost path it created.
 */
function ensureMountPoint(target: string, isFile: boolean, record: string): void {
  if (existsSync(target)) return;
  let top = target;
  while (!existsSync(dirname(top))) top = dirname(top);
  if (isFile) {
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, "");
  } else {
    mkdirSync(target, { recursive: true });
  }
  appendFileSync(record, `${top}\n`);
}

/**
 * Picks a staging directory that no mount target hides (a volume mounted at `/work` would
 * otherwise hide sources under `/work/...`).
 */
export function stagingDir(candidates: string[], targets: string[]): string {
  const hidden = (p: string) => targets.some((t) => p === t || p.startsWith(`${t}/`));
  const dir = candidates.find((c) => !hidden(c));
  if (!dir)
    throw new Error(`every staging directory is hidden by a volume mount: ${targets.join(", ")}`);
  return dir;
}

/**
 * The script the container runs as, inside the private mount namespace `ip netns exec`
 * gives it: every volume is first bind-mounted into a staging directory (while all sources
 * are still visible), then from there onto its mountPath, parents before children as runc
 * does; then it execs the container's argv. The host never sees these mounts, and they vanish
 * with the container's last process.
 */
export function startScript(
  launch: ContainerLaunch,
  stage: string,
  fileSources: Set<string>,
): string {
  const lines = ["#!/bin/sh", "set -e"];
  const staged = launch.mounts.map((m, i) => ({ ...m, staged: `${stage}/${i}` }));
  for (const m of staged) lines.push(`mount --bind ${quote(m.source)} ${quote(m.staged)}`);
  const byDepth = [...staged].sort(
    (a, b) => a.target.split("/").length - b.target.split("/").length,
  );
  for (const m of byDepth) {
    const nested = byDepth.some((p) => p !== m && m.target.startsWith(`${p.target}/`));
    if (nested) {
      lines.push(
        fileSources.has(m.source)
          ? `mkdir -p ${quote(dirname(m.target))}; [ -e ${quote(m.target)} ] || : > ${quote(m.target)}`
          : `mkdir -p ${quote(m.target)}`,
      );
    }
    lines.push(`mount --bind ${quote(m.staged)} ${quote(m.target)}`);
    if (m.readOnly) lines.push(`mount -o remount,bind,ro ${quote(m.target)}`);
  }
  lines.push(
    `mkdir -p ${quote(launch.workingDir)}`,
    `cd ${quote(launch.workingDir)}`,
    'exec "$@"',
    "",
  );
  return lines.join("\n");
}

/**
 * Starts a container: a process (and process group) inside the pod's network namespace with
 * its volumes mounted, stdout/stderr appended to the log file.
 */
export function launchContainer(
  launch: ContainerLaunch,
  isFile: (path: string) => boolean,
): ChildProcess {
  const fileSources = new Set(launch.mounts.filter((m) => isFile(m.source)).map((m) => m.source));
  for (const m of launch.mounts) {
    const nested = launch.mounts.some((p) => p !== m && m.target.startsWith(`${p.target}/`));
    if (!nested) ensureMountPoint(m.target, fileSources.has(m.source), launch.createdMountPoints);
  }
  const stage = stagingDir(
    launch.stageCandidates,
    launch.mounts.map((m) => m.target),
  );
  if (!existsSync(stage)) ensureMountPoint(stage, false, launch.createdMountPoints);
  launch.mounts.forEach((m, i) => {
    const p = `${stage}/${i}`;
    if (fileSources.has(m.source)) {
      if (!existsSync(p)) writeFileSync(p, "");
    } else mkdirSync(p, { recursive: true });
  });
  const targets = launch.mounts.map((m) => m.target);
  const wd = launch.workingDir;
  // A working directory outside every volume is created on the host (and recorded); one
  // inside a volume is created by the start script once the volume is mounted.
  if (!targets.some((t) => wd === t || wd.startsWith(`${t}/`))) {
    ensureMountPoint(wd, false, launch.createdMountPoints);
  }
  mkdirSync(dirname(launch.scriptFile), { recursive: true });
  writeFileSync(launch.scriptFile, startScript(launch, stage, fileSources), { mode: 0o755 });
  mkdirSync(dirname(launch.logFile), { recursive: true });
  const fd = openSync(launch.logFile, "a");
  try {
    return spawn(
      "ip",
      ["netns", "exec", launch.netns, "/bin/sh", launch.scriptFile, ...launch.argv],
      { detached: true, stdio: ["ignore", fd, fd], env: launch.env },
    );
  } finally {
    closeSync(fd);
  }
}

/**
 * Runs a command inside a running container's mount and network namespaces (like
 * `kubectl exec`), resolving with its exit code and combined output.
 */
export function execInContainer(
  pid: number,
  argv: string[],
  env: Record<string, string>,
  workingDir: string,
  timeoutMs: number,
): Promise<{ exitCode: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      "nsenter",
      ["-t", String(pid), "-m", "-n", `--wd=${workingDir}`, "--", ...argv],
      { env, stdio: ["ignore", "pipe", "pipe"], detached: true },
    );
    let output = "";
    const collect = (d: Buffer) => {
      if (output.length < 10_000) output += d.toString();
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    const timer = setTimeout(() => {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {}
      output += `\ncommand timed out after ${timeoutMs} ms`;
    }, timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      resolve({ exitCode: 127, output: err.message });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ exitCode: code ?? (signal ? 128 + 9 : 1), output });
    });
  });
}
