import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { type ImageCommand, imageCommandSchema, imageKey } from "./agent/image-map.js";
import { clusterPaths } from "./cluster-layout.js";

/**
 * Registers what the process node runs for an image (for example the operator's image, or a
 * demo image). Takes effect for containers started from now on, also on a running cluster:
 * the agent re-reads the registration file (`.cluster/images.json`) on every container start.
 */
export function registerImage(image: string, command: ImageCommand): void {
  const parsed = imageCommandSchema.safeParse(command);
  if (!parsed.success)
    throw new Error(`invalid image command for ${image}: ${parsed.error.message}`);
  const file = clusterPaths().images;
  mkdirSync(dirname(file), { recursive: true });
  const current = existsSync(file)
    ? (JSON.parse(readFileSync(file, "utf8")) as Record<string, ImageCommand>)
    : {};
  current[imageKey(image)] = parsed.data;
  writeFileSync(file, `${JSON.stringify(current, null, 2)}\n`);
}

export type { ImageCommand };
