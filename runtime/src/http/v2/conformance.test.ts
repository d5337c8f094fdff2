// Conformance with the real Open Inference Protocol clients from PyPI: tritonclient's HTTP
// (binary and JSON tensors) and gRPC clients and the kserve SDK's REST and gRPC clients, run by
// pytest (runtime/conformance/) against a real server on the trainer's artifact.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { post, startTestServer } from "../../../test-support/test-server.js";
import { fixtureModel, repoRoot, trainedArtifact } from "../../../test-support/trained-artifact.js";
import type { RunningServer } from "../server.js";

const fixture = trainedArtifact();
const { card, completeRows } = fixtureModel(fixture);
// Installed by scripts/setup.mjs (ensureClientsVenv).
const python = join(repoRoot, ".cache", "v2-clients-venv", "bin", "python");
let srv: RunningServer;
let dir: string;

beforeAll(async () => {
  srv = await startTestServer(fixture.modelDir, { maxExplainRows: 100, grpcPort: 0 });
  dir = mkdtempSync(join(tmpdir(), "churn-v2-"));
});
afterAll(async () => {
  await srv?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it("tritonclient and the kserve SDK score, explain and get clear errors over /v2", async () => {
  // Complete rows only: a client's numpy column cannot hold a missing value.
  const rows = completeRows.slice(0, 20);
  const v1 = await post(`${srv.url}/v1/score`, { instances: rows });
  expect(v1.status).toBe(200);
  writeFileSync(join(dir, "rows.json"), JSON.stringify(rows));
  writeFileSync(
    join(dir, "expected.json"),
    JSON.stringify(v1.body.predictions.map((p: { probability: number }) => p.probability)),
  );
  const env = {
    ...process.env,
    CHURN_V2_URL: srv.url,
    CHURN_V2_GRPC: `127.0.0.1:${srv.grpc?.port}`,
    CHURN_V2_MODEL: card.name,
    CHURN_V2_ROWS: join(dir, "rows.json"),
    CHURN_V2_EXPECTED: join(dir, "expected.json"),
  };
  // One process per file: tritonclient.grpc and kserve cannot share one (see the files).
  const files = { "test_open_inference.py": 8, "test_grpc_tritonclient.py": 1 };
  for (const [file, tests] of Object.entries(files)) {
    const path = join(repoRoot, "runtime", "conformance", file);
    const result = await promisify(execFile)(
      python,
      ["-m", "pytest", "-q", "-p", "no:cacheprovider", path],
      { env },
    ).catch((err: { stdout?: string; stderr?: string; message: string }) => ({
      stdout: `${err.stdout ?? ""}${err.stderr ?? ""}${err.message}`,
      failed: true,
    }));
    expect("failed" in result ? result.stdout : "", file).toBe("");
    expect(result.stdout, file).toMatch(new RegExp(`\\b${tests} passed\\b`));
  }
}, 120_000);
