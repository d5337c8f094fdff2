// The process around the server: the CLI and its environment variables, the digest pin,
// graceful shutdown on SIGTERM, and readiness gated by the self-check.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli, scoreAcrossSigterm } from "../test-support/cli-process.js";
import { get, post, startTestServer } from "../test-support/test-server.js";
import { repoRoot as root, trainedArtifact } from "../test-support/trained-artifact.js";
import type { Reference } from "./artifact/artifact.js";
import { DigestMismatchError } from "./artifact/artifact.js";

const fixture = trainedArtifact();
const reference = JSON.parse(
  readFileSync(join(fixture.modelDir, "reference.json"), "utf8"),
) as Reference;
const scratch = mkdtempSync(join(tmpdir(), "churn-runtime-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("churn-runtime serve (child process)", () => {
  it("takes its settings from the environment and stops gracefully on SIGTERM, finishing in-flight requests", async () => {
    const child = runCli(["serve"], {
      CHURN_MODEL_DIR: fixture.modelDir,
      CHURN_RUNTIME_PORT: "0",
      CHURN_RUNTIME_HOST: "127.0.0.1",
      CHURN_EXPECTED_DIGEST: fixture.digest,
      CHURN_EXPLAIN_WORKERS: "1",
    });
    try {
      const { url } = (await child.waitForLog("listening")) as { url: string };
      await child.waitForLog("model ready");
      expect((await get(`${url}/readyz`)).status).toBe(200);

      // An in-flight request: headers sent and acknowledged (100-continue), body still to come.
      const inflight = scoreAcrossSigterm(child, url, reference.rows.slice(0, 10));
      const res = await inflight;
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body).predictions).toHaveLength(10);
      expect(await child.exited).toBe(0);
      expect(child.lines.some((l) => l.msg === "stopped")).toBe(true);
      await expect(fetch(`${url}/healthz`)).rejects.toThrow();
      for (const l of child.lines.filter((l) => l.msg === "request")) {
        expect(l.requestId).toEqual(expect.any(String));
        expect(l.level).toBe("info");
      }
    } finally {
      child.proc.kill("SIGKILL");
    }
  });

  it("with a shutdown delay, answers new requests unready after SIGTERM until the delay is over", async () => {
    const child = runCli(["serve"], {
      CHURN_MODEL_DIR: fixture.modelDir,
      CHURN_RUNTIME_PORT: "0",
      CHURN_RUNTIME_HOST: "127.0.0.1",
      CHURN_EXPLAIN_WORKERS: "1",
      CHURN_SHUTDOWN_DELAY_SECONDS: "2",
    });
    try {
      const { url } = (await child.waitForLog("listening")) as { url: string };
      await child.waitForLog("model ready");
      child.proc.kill("SIGTERM");
      await child.waitForLog("unready; still answering while endpoints update");
      // Out of the endpoints (readiness fails), yet a request that still arrives is answered.
      expect((await get(`${url}/readyz`)).status).toBe(503);
      const late = await post(`${url}/v1/score`, { instances: reference.rows.slice(0, 1) });
      expect(late.status).toBe(200);
      expect(await child.exited).toBe(0);
    } finally {
      child.proc.kill("SIGKILL");
    }
  });

  it("refuses to start when model.onnx does not match --expected-digest", async () => {
    const child = runCli([
      "serve",
      "--model-dir",
      fixture.modelDir,
      "--port",
      "0",
      "--expected-digest",
      "0".repeat(64),
    ]);
    expect(await child.exited).toBe(2);
    const line = child.lines.find((l) => l.level === "error");
    expect(String(line?.msg)).toContain(
      `refusing to start: model.onnx has sha256 ${fixture.digest}, but the expected digest is ${"0".repeat(64)}`,
    );
  });

  it("rejects bad settings with the flag named, and prints usage", async () => {
    const bad = runCli(["serve", "--model-dir", fixture.modelDir, "--max-batch", "zero"]);
    expect(await bad.exited).toBe(64);
    expect(bad.stderr()).toContain("--max-batch (CHURN_MAX_BATCH)");
    const help = runCli(["--help"]);
    expect(await help.exited).toBe(0);
    expect(help.lines.map((l) => l.raw).join("\n")).toContain("usage: churn-runtime serve");
  });
});

describe("settings the operator passes", () => {
  it("overrides the decision threshold and can turn explanations off", async () => {
    const srv = await startTestServer(fixture.modelDir, {
      decisionThreshold: 0.999,
      explanationsEnabled: "false",
      featuresFile: fixture.dataCsv,
    });
    try {
      const score = await post(`${srv.url}/v1/score`, { instances: reference.rows.slice(0, 20) });
      expect(score.status).toBe(200);
      for (const p of score.body.predictions) {
        expect(p.threshold).toBe(0.999);
        expect(p.label).toBe(p.probability >= 0.999);
      }
      for (const r of [
        await post(`${srv.url}/v1/explain`, { instances: [reference.rows[0]] }),
        await post(`${srv.url}/v1/score`, { instances: [reference.rows[0]], explain: true }),
        await get(`${srv.url}/v1/customers/x/score?explain=true`),
      ]) {
        expect(r.status).toBe(403);
        expect(r.body.error.message).toBe("explanations are disabled on this server");
      }
    } finally {
      await srv.close();
    }
  });
});

describe("the package bin", () => {
  // `node scripts/setup.mjs` (run by npm test) builds dist/, which the bin loads.
  const built = existsSync(join(root, "dist/runtime/src/cli.js"));
  it.skipIf(!built)("runs the compiled CLI (npx churn-runtime)", () => {
    const out = execFileSync(process.execPath, [
      join(root, "bin/churn-runtime.js"),
      "--help",
    ]).toString();
    expect(out).toContain("usage: churn-runtime serve --model-dir DIR");
    expect(out).toContain("CHURN_EXPECTED_DIGEST");
  });
});

describe("readiness gated by the self-check", () => {
  /** Copies the artifact to a scratch dir (not named by a digest) with one file edited. */
  function tampered(name: string, edit: (ref: Reference) => void): string {
    const dir = join(scratch, name);
    cpSync(fixture.modelDir, dir, { recursive: true });
    const ref = JSON.parse(readFileSync(join(dir, "reference.json"), "utf8")) as Reference;
    edit(ref);
    writeFileSync(join(dir, "reference.json"), JSON.stringify(ref));
    return dir;
  }

  it("stays not ready, saying why, when probabilities disagree with reference.json", async () => {
    const dir = tampered("bad-probability", (r) => {
      r.probabilities[3] = (r.probabilities[3] as number) + 1e-3;
    });
    const srv = await startTestServer(dir);
    try {
      const r = await get(`${srv.url}/readyz`);
      expect(r.status).toBe(503);
      expect(r.body.reason).toMatch(
        /self-check failed: probabilities differ .* \(row 3; tolerance 0.00001\)/,
      );
      const score = await post(`${srv.url}/v1/score`, { instances: [reference.rows[0]] });
      expect(score.status).toBe(503);
      expect(score.body.error.message).toContain("probabilities differ");
      expect((await get(`${srv.url}/healthz`)).status).toBe(200);
      expect((await get(`${srv.url}/metrics`)).body).toMatch(/churn_model_ready 0/);
    } finally {
      await srv.close();
    }
  });

  it("stays not ready when SHAP values disagree with xgboost's", async () => {
    const dir = tampered("bad-shap", (r) => {
      const row = r.contributions[7] as number[];
      row[0] = (row[0] as number) + 1e-2;
    });
    const srv = await startTestServer(dir);
    try {
      const r = await get(`${srv.url}/readyz`);
      expect(r.status).toBe(503);
      expect(r.body.reason).toMatch(/SHAP contributions differ .*row 7/);
    } finally {
      await srv.close();
    }
  });

  it("stays not ready when the contributions do not add up to the log-odds", async () => {
    const dir = tampered("bad-margin", (r) => {
      r.margins[2] = (r.margins[2] as number) + 0.5;
    });
    const srv = await startTestServer(dir);
    try {
      expect((await get(`${srv.url}/readyz`)).body.reason).toMatch(/miss the log-odds .*row 2/);
    } finally {
      await srv.close();
    }
  });

  it("refuses an artifact whose directory name is another digest", async () => {
    const dir = join(scratch, "f".repeat(64));
    cpSync(fixture.modelDir, dir, { recursive: true });
    await expect(startTestServer(dir)).rejects.toThrow(DigestMismatchError);
  });

  it("stays not ready when the artifact cannot be read", async () => {
    const srv = await startTestServer(join(scratch, "missing"));
    try {
      const r = await get(`${srv.url}/readyz`);
      expect(r.status).toBe(503);
      expect(r.body.reason).toMatch(/model directory .*missing does not exist/);
    } finally {
      await srv.close();
    }
  });
});
