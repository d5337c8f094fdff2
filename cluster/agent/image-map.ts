import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { z } from "zod";

/**
 * What the agent runs for an image, mirroring an image's config: `entrypoint` is Docker's
 * ENTRYPOINT (replaced by a container's `command`), `cmd` is CMD (replaced by `args`).
 */
export const imageCommandSchema = z.strictObject({
  entrypoint: z.array(z.string()).optional(),
  cmd: z.array(z.string()).optional(),
  /** Default working directory when the container sets none. */
  workingDir: z.string().optional(),
  /** Image environment, overridden by the container's own env. */
  env: z.record(z.string(), z.string()).optional(),
});

export type ImageCommand = z.infer<typeof imageCommandSchema>;

const imageMapSchema = z.record(z.string(), imageCommandSchema);

/** An image-to-command map keyed by normalised repository name (see {@link imageKey}). */
export type ImageMap = Record<string, ImageCommand>;

/**
 * Reduces an image reference to the repository name the map is keyed by: registry prefix
 * `docker.io/`, the `library/` namespace, the tag and the digest are dropped, so
 * `docker.io/library/busybox:1.36@sha256:...` and `busybox` name the same entry.
 */
export function imageKey(image: string): string {
  let ref = image.trim();
  const at = ref.indexOf("@");
  if (at >= 0) ref = ref.slice(0, at);
  const colon = ref.lastIndexOf(":");
  if (colon > ref.lastIndexOf("/")) ref = ref.slice(0, colon);
  for (const prefix of ["docker.io/", "index.docker.io/", "registry-1.docker.io/"]) {
    if (ref.startsWith(prefix)) ref = ref.slice(prefix.length);
  }
  if (ref.startsWith("library/")) ref = ref.slice("library/".length);
  return ref;
}

/**
 * The built-in entries: the project's own images map to its local builds, and a few public
 * base images map to the host's tools so tests can run shell commands and small servers.
 */
export function defaultImageMap(repoRoot: string): ImageMap {
  return {
    "churn-operator/runtime": {
      entrypoint: [process.execPath, join(repoRoot, "bin", "churn-runtime.js")],
      workingDir: repoRoot,
    },
    // Mirrors Dockerfile.operator's ENTRYPOINT on the local build.
    "churn-operator/operator": {
      entrypoint: [process.execPath, join(repoRoot, "dist", "operator", "src", "main.js")],
      workingDir: repoRoot,
    },
    "churn-operator/trainer": {
      entrypoint: [join(repoRoot, ".venv", "bin", "python"), "-m", "churn_trainer"],
      workingDir: repoRoot,
    },
    // Shell images: `sh -c ...`, `sleep`, `cat` and friends come from the host.
    busybox: { cmd: ["sh"] },
    alpine: { cmd: ["/bin/sh"] },
    debian: { cmd: ["bash"] },
    // Language images run the host's interpreters.
    node: { cmd: [process.execPath] },
    python: { cmd: ["python3"] },
  };
}

function loadFile(file: string): ImageMap {
  const text = readFileSync(file, "utf8");
  const raw: unknown = file.endsWith(".json") ? JSON.parse(text) : parse(text);
  const parsed = imageMapSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    throw new Error(`invalid image map ${file}: ${z.prettifyError(parsed.error)}`);
  }
  const map: ImageMap = {};
  for (const [k, v] of Object.entries(parsed.data)) map[imageKey(k)] = v;
  return map;
}

/**
 * The effective map, re-read on every container start so images registered while the cluster
 * runs take effect: built-ins, then `$CHURN_CLUSTER_IMAGES` (JSON or YAML), then the cluster's
 * registration file; later sources win.
 */
export function loadImageMap(repoRoot: string, registrationFile: string): ImageMap {
  const map = defaultImageMap(repoRoot);
  const fromEnv = process.env.CHURN_CLUSTER_IMAGES;
  if (fromEnv) Object.assign(map, loadFile(fromEnv));
  if (existsSync(registrationFile)) Object.assign(map, loadFile(registrationFile));
  return map;
}

/** The argv a container runs, with Kubernetes' command/args over ENTRYPOINT/CMD semantics. */
export function containerArgv(
  image: ImageCommand,
  container: { command?: string[]; args?: string[] },
): string[] {
  const argv = container.command?.length
    ? [...container.command, ...(container.args ?? [])]
    : [
        ...(image.entrypoint ?? []),
        ...(container.args?.length ? container.args : (image.cmd ?? [])),
      ];
  return argv;
}
