// The built CLI under node --disallow-code-generation-from-strings (what hardened deployments
// set), as child processes with real HTTP and onnxruntime: `serve` answers /v1 and /v2, `route`
// proxies to it and `batch` scores a file, byte for byte as the same CLI does with code
// generation on, while saying that its trees are walked from arrays. gRPC refuses to start
// there, naming the flag and how to turn gRPC off.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuild } from "../../scripts/setup.mjs";
import { type CliLaunch, type CliProcess, runCli } from "../test-support/cli-process.js";
import { fixtureModel, trainedArtifact } from "../test-support/trained-artifact.js";
import { NO_CODEGEN_FLAG } from "./code-generation.js";
import { GRPC_WITHOUT_CODEGEN } from "./grpc/import-grpc.js";

const fixture = trainedArtifact();
const { card, reference } = fixtureModel(fixture);
const HARDENED: CliLaunch = { built: true, nodeOptions: [NO_CODEGEN_FLAG] };
const PLAIN: CliLaunch = { built: true };
const HOST = { CHURN_RUNTIME_HOST: "127.0.0.1" };

let scratch: string;
/** The same `serve` twice: code generation on, and off. */
const servers: Record<"plain" | "hardened", { child: CliProcess; url: string }> = {} as never;

async function serve(launch: CliLaunch): Promise<{ child: CliProcess; url: string }> {
  const args = ["serve", "--model-dir", fixture.modelDir, "--port", "0", "--explain-workers", "1"];
  const child = runCli(args, HOST, launch);
  const { url } = (await child.waitForLog("listening")) as { url: string };
  await child.waitForLog("model ready");
  return { child, url };
}

beforeAll(async () => {
  // The test runs dist/, so dist/ must be this source: rebuilt when a source is newer.
  ensureBuild();
  scratch = mkdtempSync(join(tmpdir(), "churn-no-codegen-"));
  [servers.plain, servers.hardened] = await Promise.all([serve(PLAIN), serve(HARDENED)]);
}, 240_000);
afterAll(() => {
  for (const s of Object.values(servers)) s.child.proc.kill("SIGKILL");
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** One exchange as the client sees it: status, content type and the body's exact bytes. */
async function exchange(url: string, path: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method: body === undefined ? "GET" : "POST",
    // A fixed request id: error bodies carry it.
    headers: { "content-type": "application/json", "x-request-id": "no-codegen" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = Buffer.from(await res.arrayBuffer()).toString("utf8");
  return { status: res.status, type: res.headers.get("content-type"), text };
}

const rows = reference.rows;
/** Rows the validator refuses, field by field: wrong types, ranges, unknown and missing keys. */
const badRows = rows.slice(0, 6).map((row, i) => {
  const name = card.features.raw[i % card.features.raw.length] as string;
  const bad = [null, 12, -1e9, true, [], { x: 1 }][i];
  const copy: Record<string, unknown> = { ...row, [name]: bad };
  if (i === 2) copy.extraField = 1;
  if (i === 4) delete copy[card.features.raw[0] as string];
  return copy;
});
/** The rows as one JSON tensor per raw column, typed as the model's /v2 metadata says. */
const tensors = (metadata: { inputs: { name: string; datatype: string }[] }) =>
  metadata.inputs.map(({ name, datatype }) => ({
    name,
    datatype,
    shape: [20],
    data: rows
      .slice(0, 20)
      .map((r) => (datatype === "BOOL" ? r[name] === 1 || r[name] === true : (r[name] ?? 0))),
  }));

describe(`serve under node ${NO_CODEGEN_FLAG}`, () => {
  it("names the array walk as the compiled engine's trees; the same self-check otherwise", async () => {
    const ready = async (url: string) => JSON.parse((await exchange(url, "/readyz")).text);
    const plain = await ready(servers.plain.url);
    const hardened = await ready(servers.hardened.url);
    expect(plain.selfCheck.scoringEngine).toMatchObject({ engine: "compiled", trees: "generated" });
    expect(hardened.selfCheck.scoringEngine).toMatchObject({ engine: "compiled", trees: "arrays" });
    const chosen = servers.hardened.child.lines.find((l) => l.msg === "scoring engine chosen");
    expect(chosen).toMatchObject({ engine: "compiled", trees: "arrays" });
    hardened.selfCheck.scoringEngine.trees = "generated";
    expect(hardened).toEqual(plain);
  });

  it("answers /v1 and /v2 byte for byte as with code generation", async () => {
    const name = card.name;
    const metadata = JSON.parse((await exchange(servers.plain.url, `/v2/models/${name}`)).text);
    const requests: [string, unknown?][] = [
      ["/v1/score", { instances: rows.slice(0, 1) }],
      ["/v1/score", { instances: rows.slice(0, 3) }],
      ["/v1/score", { instances: rows }],
      ["/v1/score", { instances: rows.slice(0, 40), explain: true }],
      ["/v1/explain", { instances: rows.slice(0, 2) }],
      ["/v1/score", { instances: badRows }],
      ...badRows.map((row): [string, unknown] => ["/v1/score", { instances: [row] }]),
      ["/v1/score", { rows: [] }],
      [`/v2/models/${name}`],
      [`/v2/models/${name}/infer`, { id: "a", inputs: tensors(metadata) }],
      [`/v2/models/${name}/infer`, { inputs: tensors(metadata).slice(1) }],
    ];
    let ok = 0;
    for (const [path, body] of requests) {
      const plain = await exchange(servers.plain.url, path, body);
      const hardened = await exchange(servers.hardened.url, path, body);
      expect(hardened, `${path} ${JSON.stringify(body ?? null).slice(0, 80)}`).toEqual(plain);
      if (plain.status === 200) ok++;
    }
    // Both kinds were compared: scores and explanations, and refusals naming fields.
    expect(ok).toBe(7);
    const refused = JSON.parse(
      (await exchange(servers.hardened.url, "/v1/score", { instances: badRows })).text,
    );
    expect(refused.error.fields.length).toBeGreaterThan(5);
  });

  it("routes: `route` under the flag proxies to it and answers as it does", async () => {
    const file = join(scratch, "traffic.json");
    const stable = { digest: fixture.digest, url: servers.hardened.url };
    writeFileSync(
      file,
      JSON.stringify({ model: card.name, stable, canary: null, stickyHeader: null }),
    );
    const router = runCli(["route", "--traffic-file", file, "--port", "0"], HOST, HARDENED);
    try {
      const { url } = (await router.waitForLog("listening")) as { url: string };
      await router.waitForLog("sticky id column learned from the stable model");
      const body = { instances: rows.slice(0, 10), explain: true };
      const routed = await exchange(url, "/v1/score", body);
      expect(routed.status, routed.text).toBe(200);
      expect(routed.text).toBe((await exchange(servers.plain.url, "/v1/score", body)).text);
    } finally {
      router.proc.kill("SIGKILL");
    }
  });

  it("refuses gRPC at start, naming the flag and how to turn gRPC off", async () => {
    for (const command of [
      ["serve", "--model-dir", fixture.modelDir],
      ["route", "--traffic-file", join(scratch, "none.json")],
    ]) {
      const child = runCli([...command, "--port", "0", "--grpc-port", "0"], HOST, HARDENED);
      expect(await child.exited).toBe(1);
      expect(child.lines.find((l) => l.msg === "cannot start")?.error).toBe(GRPC_WITHOUT_CODEGEN);
      expect(child.lines.some((l) => l.msg === "listening")).toBe(false);
    }
    expect(GRPC_WITHOUT_CODEGEN).toContain(NO_CODEGEN_FLAG);
    expect(GRPC_WITHOUT_CODEGEN).toContain("--grpc-port");
  });
});

describe(`batch under node ${NO_CODEGEN_FLAG}`, () => {
  it("writes the same parts and rejects as with code generation", async () => {
    // The fixture's rows, then records the decoder and validator refuse or read specially.
    const lines = readFileSync(fixture.dataCsv, "utf8").trim().split(/\r?\n/);
    const header = (lines[0] as string).split(",");
    const odd = lines.slice(1, 20).map((line, i) => {
      const cells = line.split(",");
      cells[(i * 5) % cells.length] = ["", "abc", " 7 ", "NA", '"q,x"', "1e3", "-0"][
        i % 7
      ] as string;
      return i % 6 === 0 ? `${cells.join(",")},extra` : cells.join(",");
    });
    const input = join(scratch, "input.csv");
    writeFileSync(input, `${[...lines, ...odd].join("\n")}\n`);
    expect(header.length).toBeGreaterThan(3);

    const outputs: Record<string, Record<string, Buffer>> = {};
    for (const [name, launch] of Object.entries({ plain: PLAIN, hardened: HARDENED })) {
      for (const format of ["csv", "parquet"]) {
        const out = join(scratch, `${name}-${format}`);
        mkdirSync(out);
        const args = ["batch", "--model-dir", fixture.modelDir, "--input", input, "--output", out];
        const flags = ["--output-format", format, "--explain-top-k", "3", "--batch-rows", "700"];
        const child = runCli([...args, ...flags], {}, launch);
        expect(await child.exited, child.stderr()).toBe(0);
        const chosen = child.lines.find((l) => l.msg === "scoring engine chosen");
        expect(chosen?.trees).toBe(name === "plain" ? "generated" : "arrays");
        outputs[`${name}-${format}`] = Object.fromEntries(
          readdirSync(out).map((f) => [f, readFileSync(join(out, f))]),
        );
      }
    }
    for (const format of ["csv", "parquet"]) {
      const plain = outputs[`plain-${format}`] ?? {};
      expect(Object.keys(plain).sort()).toEqual([`part-0.${format}`, "rejects-0.csv"]);
      expect(outputs[`hardened-${format}`]).toEqual(plain);
    }
    // Rows were scored and some refused: both files hold something to compare.
    const rejects = outputs["plain-csv"]?.["rejects-0.csv"]?.toString() ?? "";
    expect(rejects.trim().split("\n").length).toBeGreaterThan(3);
    const part = outputs["plain-csv"]?.["part-0.csv"]?.toString() ?? "";
    expect(part.trim().split("\n").length).toBeGreaterThan(lines.length - 1);
  }, 120_000);
});
