import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { Defaults } from "./defaults.js";
import { crdDefinitions, crdDrift, crdOutputDirs, renderCrds } from "./generate-crds.js";

type Node = { [k: string]: unknown };

function at(root: Node, path: string): Node {
  let node = root;
  for (const part of path.split(".")) {
    const props = node.properties as Record<string, Node> | undefined;
    const next = props?.[part];
    if (!next) throw new Error(`schema has no ${path} (stopped at ${part})`);
    node = next;
  }
  return node;
}

function schemaOf(plural: string): Node {
  const file = renderCrds().find((f) => f.file.includes(plural));
  if (!file) throw new Error(`no CRD for ${plural}`);
  const crd = parse(file.text);
  return crd.spec.versions[0].schema.openAPIV3Schema;
}

/** Visits every schema node with its dotted path. */
function walk(node: Node, path: string, visit: (n: Node, p: string) => void): void {
  visit(node, path);
  for (const [k, child] of Object.entries((node.properties as Record<string, Node>) ?? {})) {
    walk(child, `${path}.${k}`, visit);
  }
  if (node.items) walk(node.items as Node, `${path}[]`, visit);
  if (node.additionalProperties && typeof node.additionalProperties === "object") {
    walk(node.additionalProperties as Node, `${path}{}`, visit);
  }
}

/** What keeps one schema node at `path` from being structural, or kubectl explain from explaining it. */
function structuralProblems(n: Node, p: string): string[] {
  const problems: string[] = [];
  const untyped = n["x-kubernetes-int-or-string"] || n["x-kubernetes-preserve-unknown-fields"];
  if (!n.type && !untyped) problems.push(`${p}: no type`);
  if (n.anyOf || n.oneOf || n.allOf || n.$ref) problems.push(`${p}: non-structural keyword`);
  if (n.additionalProperties === false) problems.push(`${p}: additionalProperties false`);
  if (!n.description && needsDescription(p)) {
    problems.push(`${p}: no description (kubectl explain needs one)`);
  }
  return problems;
}

/** Spec fields need a description; apiVersion, kind, metadata and map or list items do not. */
function needsDescription(p: string): boolean {
  const isTopLevelMeta = /\.(apiVersion|kind|metadata)$/.test(p) && p.split(".").length === 2;
  const inMap = p.endsWith("{}") || p.endsWith("[]");
  return !isTopLevelMeta && !inMap && p.includes(".spec");
}

describe("generated CRDs", () => {
  it("are committed exactly as the generator writes them, in crds/ and the chart (run generate-crds.ts)", () => {
    expect(crdOutputDirs).toHaveLength(2);
    for (const dir of crdOutputDirs) {
      for (const { file, text } of renderCrds()) {
        expect(readFileSync(join(dir, file), "utf8"), join(dir, file)).toBe(text);
      }
    }
    expect(crdDrift()).toEqual([]);
  });

  it("carry the same defaults as operator/src/api/defaults.ts", () => {
    const tr = schemaOf("trainingruns");
    expect(at(tr, "spec.backoffLimit").default).toBe(Defaults.backoffLimit);
    expect(at(tr, "spec.activeDeadlineSeconds").default).toBe(Defaults.activeDeadlineSeconds);
    expect(at(tr, "spec.ttlSecondsAfterFinished").default).toBe(Defaults.ttlSecondsAfterFinished);
    const chm = schemaOf("churnmodels");
    expect(at(chm, "spec.replicas").default).toBe(Defaults.replicas);
    expect(at(chm, "spec.explanations.enabled").default).toBe(Defaults.explanationsEnabled);
    expect(at(chm, "spec.grpc.enabled").default).toBe(Defaults.grpcEnabled);
  });

  it("are structural: every spec field has a type (or an explicit x-kubernetes escape) and a description", () => {
    for (const def of crdDefinitions) {
      const root = schemaOf(def.plural);
      const problems: string[] = [];
      walk(root, def.kind, (n, p) => problems.push(...structuralProblems(n, p)));
      expect(problems, def.kind).toEqual([]);
    }
  });

  it("make the TrainingRun spec immutable and the ChurnModel source exactly-one, in CEL", () => {
    const tr = schemaOf("trainingruns");
    expect(at(tr, "spec")["x-kubernetes-validations"]).toBeUndefined();
    expect(JSON.stringify(tr["x-kubernetes-validations"])).toContain("self.spec == oldSelf.spec");
    const chm = schemaOf("churnmodels");
    expect(JSON.stringify(at(chm, "spec.source")["x-kubernetes-validations"])).toContain("== 1");
  });
});
