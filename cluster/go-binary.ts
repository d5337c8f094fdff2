import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { GO_MIN_VERSION } from "./build-cache.mjs";
import { buildOnce } from "./cached-build.js";
import { goBuild, goFetch, moduleGoMod } from "./go-command.js";
import { cacheRoot } from "./versions.js";

/** A Go program built from `<module>/<pkg>` at `version` and cached per version. */
export interface GoBinary {
  /** Binary name, also the cache folder: `<cache>/<name>/<version>/bin/<name>`. */
  name: string;
  module: string;
  /** Package path inside the module, e.g. `cmd/helm`. */
  pkg: string;
  version: string;
  /** Link flags, given the module's go.mod (e.g. versions the program reports). */
  ldflags?: (goMod: string) => string;
  /**
   * Carry the module's own `replace X => Y vN` lines into the generated module: a dependency's
   * replaces are ignored by Go, so one that points a vanished module at a fork must be repeated
   * (SeaweedFS: go-bip39). Replaces to local paths are dropped (not in the published module).
   */
  keepReplaces?: boolean;
}

/**
 * The `replace` directives of a go.mod that point at another module version (single-line and
 * block form), as `old => new version` lines; replaces to a relative or absolute path are left
 * out, since the published module has no such directory.
 */
export function moduleReplaces(goMod: string): string[] {
  const lines: string[] = [];
  let inBlock = false;
  for (const raw of goMod.split("\n")) {
    const line = raw.replace(/\/\/.*$/, "").trim();
    if (line === "replace (") inBlock = true;
    else if (inBlock && line === ")") inBlock = false;
    else {
      const body = inBlock ? line : /^replace\s+(.*)$/.exec(line)?.[1];
      const m = body && /^(\S+(?:\s+\S+)?)\s+=>\s+([^./\s]\S*)\s+(v\S+)$/.exec(body);
      if (m) lines.push(`${m[1]} => ${m[2]} ${m[3]}`);
    }
  }
  return lines;
}

/** The generated module's go.mod: its name, the Go it needs, then any replace lines. */
function generatedGoMod(name: string, replaces: string[]): string {
  const head = `module churn-operator.local/${name}-build\n\ngo ${GO_MIN_VERSION}\n`;
  return replaces.length ? `${head}\n${replaces.map((r) => `replace ${r}`).join("\n")}\n` : head;
}

/** Directory holding the cached binary of this pin (outside the repository). */
export function goBinaryDir(b: GoBinary): string {
  return join(cacheRoot(), b.name, b.version, "bin");
}

/**
 * Path of the binary, built from the Go module proxy on first use and cached per version:
 * changing the pin is the only thing that rebuilds it. Built like the cluster's binaries (a
 * generated module requiring the pin, so `go list` can count the packages to compile, which
 * `go install pkg@version` cannot), with the same lock, marker and progress.
 */
export async function ensureGoBinary(b: GoBinary): Promise<string> {
  const marker = { module: b.module, version: b.version };
  const label = { prefix: b.name, label: `${b.name} ${b.version}`, steps: 3 };
  await buildOnce(goBinaryDir(b), marker, label, async (ctx) => {
    // Static binaries; the generated go.mod follows what `go get` resolves.
    const opts = {
      cwd: ctx.src,
      logFile: ctx.logFile,
      env: { CGO_ENABLED: "0", GOFLAGS: "-mod=mod" },
    };
    writeFileSync(join(ctx.src, "go.mod"), generatedGoMod(b.name, []));
    const needGoMod = b.ldflags || b.keepReplaces;
    const goMod = needGoMod ? await moduleGoMod(`${b.module}@${b.version}`, opts) : "";
    writeFileSync(
      join(ctx.src, "go.mod"),
      generatedGoMod(b.name, b.keepReplaces ? moduleReplaces(goMod) : []),
    );
    const target = `${b.module}/${b.pkg}`;
    await goFetch("download modules", ["get", `${target}@${b.version}`], opts, ctx.progress);
    const flags = ["-trimpath", "-ldflags", b.ldflags ? b.ldflags(goMod) : "-s -w"];
    await goBuild(flags, [target], join(ctx.out, b.name), opts, ctx.progress);
  });
  return join(goBinaryDir(b), b.name);
}
