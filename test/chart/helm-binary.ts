import { spawn } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { withFileLock } from "../cluster/file-lock.js";
import { cacheRoot } from "../cluster/versions.js";

/** The pinned Helm release; changing it is the only thing that triggers a rebuild. */
export const HELM_VERSION = "v3.22.0";
const MODULE = "helm.sh/helm/v3";

/** Directory of the cached helm binary for the pinned version (outside the repository). */
export function helmBinDir(): string {
  return join(cacheRoot(), "helm", HELM_VERSION, "bin");
}

/** Go settings: never fetch another toolchain (only the module proxy is reachable), static binary. */
function goEnv(gobin: string): NodeJS.ProcessEnv {
  return { ...process.env, GOTOOLCHAIN: "local", CGO_ENABLED: "0", GOBIN: gobin };
}

/** Runs go with output appended to `logFile`; rejects with the log's tail. */
function go(args: string[], cwd: string, logFile: string, gobin: string): Promise<string> {
  appendFileSync(logFile, `\n$ go ${args.join(" ")}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn("go", args, { cwd, env: goEnv(gobin), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => appendFileSync(logFile, d));
    child.on("error", (err) =>
      reject(new Error(`cannot run go (needed to build helm ${HELM_VERSION}): ${err.message}`)),
    );
    child.on("close", (code) => {
      if (code === 0) return resolve(stdout);
      const tail = readFileSync(logFile, "utf8").split("\n").slice(-25).join("\n");
      reject(new Error(`go ${args.join(" ")} exited with ${code}; see ${logFile}:\n${tail}`));
    });
  });
}

/**
 * The Kubernetes version helm assumes without a cluster (`helm template`'s default
 * capabilities) is set at link time, as helm's own Makefile does, from its client-go version:
 * client-go v0.N.M is Kubernetes 1.N.
 */
export function kubernetesMinorOf(helmGoMod: string): string {
  const m = /^\s*k8s\.io\/client-go\s+v0\.(\d+)\.\d+/m.exec(helmGoMod);
  if (!m?.[1]) throw new Error("helm's go.mod names no k8s.io/client-go v0.N.M requirement");
  return m[1];
}

function ldflags(minor: string): string {
  const flags = ["-s", "-w", `-X ${MODULE}/internal/version.version=${HELM_VERSION}`];
  for (const pkg of ["pkg/lint/rules", "pkg/chartutil"]) {
    flags.push(
      `-X ${MODULE}/${pkg}.k8sVersionMajor=1`,
      `-X ${MODULE}/${pkg}.k8sVersionMinor=${minor}`,
    );
  }
  return flags.join(" ");
}

const MARKER = JSON.stringify({ version: HELM_VERSION });
const isComplete = (dir: string) =>
  existsSync(join(dir, "helm")) &&
  existsSync(join(dir, ".complete")) &&
  readFileSync(join(dir, ".complete"), "utf8") === MARKER;

/**
 * Path of the helm binary, built from the Go module proxy on first use (`go install`, one
 * build per machine: a file lock makes concurrent callers wait for it) and cached per version.
 */
export async function ensureHelm(): Promise<string> {
  const binDir = helmBinDir();
  const helm = join(binDir, "helm");
  if (isComplete(binDir)) return helm;
  const top = join(cacheRoot(), "helm", HELM_VERSION);
  await withFileLock(top, ".build-lock", async () => {
    if (isComplete(binDir)) return;
    mkdirSync(binDir, { recursive: true });
    const logFile = join(top, "build.log");
    writeFileSync(logFile, `building helm ${HELM_VERSION}\n`);
    process.stderr.write(
      `[chart] building helm ${HELM_VERSION} from the Go module proxy (log: ${logFile})\n`,
    );
    const started = Date.now();
    const info = JSON.parse(
      await go(["mod", "download", "-json", `${MODULE}@${HELM_VERSION}`], top, logFile, binDir),
    ) as { GoMod?: string; Error?: string };
    if (info.Error || !info.GoMod) throw new Error(`go mod download ${MODULE}: ${info.Error}`);
    const minor = kubernetesMinorOf(readFileSync(info.GoMod, "utf8"));
    await go(
      ["install", "-ldflags", ldflags(minor), `${MODULE}/cmd/helm@${HELM_VERSION}`],
      top,
      logFile,
      binDir,
    );
    writeFileSync(join(binDir, ".complete"), MARKER);
    process.stderr.write(`[chart] helm built in ${Math.round((Date.now() - started) / 1000)} s\n`);
  });
  return helm;
}

// `npx tsx test/chart/helm-binary.ts`: build (or reuse) helm and print its path.
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.stdout.write(`${await ensureHelm()}\n`);
}
