import type { V1ConfigMap, V1Pod, V1Secret } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import {
  ContainerConfigError,
  containerEnv,
  expandVars,
  type PodObjectSource,
  parseQuantity,
} from "./container-env.js";

describe("expandVars", () => {
  it.each([
    ["$(A)-$(B)", "1-2"],
    ["$(MISSING)", "$(MISSING)"],
    ["$$(A)", "$(A)"],
    ["cost $5", "cost $5"],
    ["$(A", "$(A"],
  ])("%s -> %s", (input, out) => {
    expect(expandVars(input, { A: "1", B: "2" })).toBe(out);
  });
});

describe("parseQuantity", () => {
  it.each([
    ["500m", 0.5],
    ["2", 2],
    ["1Gi", 1024 ** 3],
    ["128Mi", 128 * 1024 ** 2],
  ])("%s -> %d", (q, n) => {
    expect(parseQuantity(q)).toBe(n);
  });
  it("rejects garbage with the value in the message", () => {
    expect(() => parseQuantity("lots")).toThrow(/"lots"/);
  });
});

/** An in-memory set of ConfigMaps and Secrets, as the apiserver would return them. */
class Objects implements PodObjectSource {
  constructor(
    private readonly cms: Record<string, V1ConfigMap>,
    private readonly secrets: Record<string, V1Secret>,
  ) {}
  async configMap(_ns: string, name: string) {
    return this.cms[name] ?? null;
  }
  async secret(_ns: string, name: string) {
    return this.secrets[name] ?? null;
  }
}

describe("containerEnv", () => {
  const pod: V1Pod = {
    metadata: { name: "p", namespace: "ns", labels: { app: "x" } },
    spec: { containers: [] },
    status: { podIP: "10.244.1.9" },
  };
  const objects = new Objects(
    { cfg: { data: { mode: "fast" } } },
    { s: { data: { token: Buffer.from("t0k").toString("base64") } } },
  );
  const node = { cpu: 2, memoryBytes: 1024 };

  it("resolves values, references, field paths and envFrom in the kubelet's order", async () => {
    const env = await containerEnv(
      pod,
      {
        name: "c",
        envFrom: [{ prefix: "CFG_", configMapRef: { name: "cfg" } }],
        env: [
          { name: "A", value: "a" },
          { name: "B", value: "$(A)b" },
          { name: "IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
          { name: "APP", valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
          { name: "MODE", valueFrom: { configMapKeyRef: { name: "cfg", key: "mode" } } },
          { name: "TOKEN", valueFrom: { secretKeyRef: { name: "s", key: "token" } } },
          { name: "CPU", valueFrom: { resourceFieldRef: { resource: "limits.cpu" } } },
        ],
      },
      { PATH: "/bin" },
      objects,
      node,
    );
    expect(env).toEqual({
      PATH: "/bin",
      CFG_mode: "fast",
      A: "a",
      B: "ab",
      IP: "10.244.1.9",
      APP: "x",
      MODE: "fast",
      TOKEN: "t0k",
      CPU: "2",
    });
  });

  it("fails with the missing key and object named, unless optional", async () => {
    const missing = { name: "X", valueFrom: { configMapKeyRef: { name: "cfg", key: "nope" } } };
    await expect(
      containerEnv(pod, { name: "c", env: [missing] }, {}, objects, node),
    ).rejects.toThrow(
      new ContainerConfigError("couldn't find key nope in ConfigMap ns/cfg (env X)"),
    );
    const optional = {
      name: "X",
      valueFrom: { configMapKeyRef: { name: "gone", key: "k", optional: true } },
    };
    expect(await containerEnv(pod, { name: "c", env: [optional] }, {}, objects, node)).toEqual({});
  });
});
