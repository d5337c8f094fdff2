// The first run on a bare machine: the preflight names what is missing with the command that
// fixes it, and the set-up stops before installing or building anything.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GO_BUILDS } from "../cluster/build-cache.mjs";
import { fixCommands, preflight, which } from "./preflight.mjs";
import { root } from "./setup.mjs";

/** A PATH holding this machine's `tools` and nothing else (no apt-get: nothing gets installed). */
function pathWith(tools) {
  const bin = mkdtempSync(join(tmpdir(), "preflight-bin-"));
  for (const tool of tools) {
    const real = tool === "node" ? process.execPath : which(tool, process.env);
    if (real) symlinkSync(real, join(bin, tool));
  }
  return bin;
}

const BASICS = ["node", "npm", "python3", "git"];
const CLUSTER_TOOLS = ["ip", "iptables", "openssl", "nsenter", "mount"];

describe("a machine without nftables", () => {
  it("stops `npm run setup` at once, naming nft and the apt-get line, before any build", () => {
    const cache = mkdtempSync(join(tmpdir(), "preflight-cache-"));
    const env = {
      HOME: process.env.HOME,
      PATH: pathWith([...BASICS, "go", ...CLUSTER_TOOLS]),
      CHURN_CLUSTER_CACHE: cache,
      CI: "true",
    };
    const r = spawnSync(process.execPath, [join(root, "scripts", "setup.mjs")], {
      env,
      encoding: "utf8",
    });
    const lines = r.stderr.split("\n");
    const sudo = process.getuid() === 0 ? "" : "sudo ";
    expect(r.status, r.stderr).toBe(1);
    expect(lines).toContain(
      "[setup]   nft not found on PATH (Debian package nftables): needed for kube-proxy's Service rules",
    );
    expect(lines).toContain(
      `[setup] fix: ${sudo}apt-get install -y --no-install-recommends nftables`,
    );
    expect(lines).toContain(
      "[setup] failed: stopped by the preflight before installing or building anything (above)",
    );
    // Nothing long started: no install, no npm ci, no build, and the binary cache is untouched.
    expect(
      lines.filter((l) =>
        /^\[setup\] (installing|building|creating)|^\[(cluster|helm|promtool)\]/.test(l),
      ),
    ).toEqual([]);
    expect(readdirSync(cache)).toEqual([]);
  });
});

describe("preflight", () => {
  const cached = () => {
    const cache = mkdtempSync(join(tmpdir(), "preflight-cache-"));
    for (const [name, version] of Object.entries(GO_BUILDS)) {
      mkdirSync(join(cache, name, version, "bin"), { recursive: true });
      writeFileSync(join(cache, name, version, "bin", ".complete"), "{}");
    }
    return cache;
  };

  it("asks for Go, with the command that installs it, only while a build is ahead", () => {
    const PATH = pathWith(BASICS);
    const empty = mkdtempSync(join(tmpdir(), "preflight-cache-"));
    const cold = preflight(
      { goBuilds: ["helm"] },
      { env: { HOME: process.env.HOME, PATH, CHURN_CLUSTER_CACHE: empty }, uid: 0 },
    );
    const noGo = cold.problems.find((p) => p.message.startsWith("go not found on PATH"));
    expect(noGo?.message).toBe(
      "go not found on PATH: needed to build helm (built once from the Go module proxy, then cached)",
    );
    expect(noGo?.fix).toMatch(
      /^curl -fsSL https:\/\/go\.dev\/dl\/go1\.26\.0\.linux-\w+\.tar\.gz \| tar/,
    );
    expect(cold.buildsAhead).toEqual(["helm"]);

    const warm = preflight(
      { goBuilds: ["helm"] },
      { env: { HOME: process.env.HOME, PATH, CHURN_CLUSTER_CACHE: cached() }, uid: 0 },
    );
    expect(warm).toEqual({ problems: [], packages: [], buildsAhead: [] });
  });

  it("wants root for the local cluster, and a rerun as root is the one fix", () => {
    const PATH = pathWith([...BASICS, ...CLUSTER_TOOLS]);
    const report = preflight(
      { cluster: true, rerun: "npm test" },
      { env: { HOME: process.env.HOME, PATH, CHURN_CLUSTER_CACHE: cached() }, uid: 1000 },
    );
    expect(report.problems.map((p) => p.message)).toEqual([
      "nft not found on PATH (Debian package nftables): needed for kube-proxy's Service rules",
      "not running as root: the local cluster creates network namespaces, a bridge and bind mounts",
    ]);
    expect(fixCommands(report.problems, { root: false, apt: true })).toEqual([
      'sudo env "PATH=$PATH" npm test (as root the set-up installs nftables itself)',
    ]);
  });
});

describe("fixCommands", () => {
  const nft = { message: "nft missing", pkg: "nftables" };
  const git = { message: "git missing", pkg: "git" };
  const notRoot = { message: "not root", fix: 'sudo env "PATH=$PATH" npm test', root: true };
  const noGo = { message: "no go", fix: "install go" };

  it.each([
    [
      "root with apt",
      [nft, git],
      true,
      true,
      ["apt-get install -y --no-install-recommends nftables git"],
    ],
    ["no apt-get", [nft], true, false, ["apt-get install -y --no-install-recommends nftables"]],
    [
      "not root, with other problems",
      [nft, noGo],
      false,
      true,
      ["sudo apt-get install -y --no-install-recommends nftables", "install go"],
    ],
    [
      "not root where the cluster needs root",
      [nft, notRoot],
      false,
      true,
      ['sudo env "PATH=$PATH" npm test (as root the set-up installs nftables itself)'],
    ],
    [
      "not root and no apt-get",
      [nft, notRoot],
      false,
      false,
      [
        "sudo apt-get install -y --no-install-recommends nftables",
        'sudo env "PATH=$PATH" npm test',
      ],
    ],
  ])("%s", (_, problems, root, apt, fixes) => {
    expect(fixCommands(problems, { root, apt })).toEqual(fixes);
  });
});
