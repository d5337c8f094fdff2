// Test helper: a real runtime on 127.0.0.1 (ephemeral port) serving the trained fixture.
import { type RuntimeConfig, resolveConfig, type SettingName } from "../src/config.js";
import { type RunningServer, startServer } from "../src/http/server.js";
import { createLogger } from "../src/logger.js";

/** Starts a server for `modelDir`; `flags` override settings as on the command line. */
export async function startTestServer(
  modelDir: string,
  flags: Partial<Record<SettingName, string | number>> = {},
  logLines?: string[],
): Promise<RunningServer & { config: RuntimeConfig }> {
  const config = resolveConfig(
    {
      modelDir,
      port: 0,
      host: "127.0.0.1",
      explainWorkers: 1,
      logLevel: logLines ? "debug" : "silent",
      ...flags,
    },
    {},
  );
  const logger = createLogger(config.logLevel, (line) => logLines?.push(line));
  const running = await startServer(config, logger, { processMetrics: false });
  await running.loaded;
  return { ...running, config };
}

/** A parsed response body: its shape is what the tests assert. */
// biome-ignore lint/suspicious/noExplicitAny: tests inspect arbitrary JSON responses
export type JsonBody = any;

/** A response as the tests read it. */
export interface TestResponse {
  status: number;
  headers: Headers;
  body: JsonBody;
}

/** Reads a response: JSON bodies parsed, anything else (e.g. /metrics) left as text. */
async function read(res: Response): Promise<TestResponse> {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: the text is the body.
  }
  return { status: res.status, headers: res.headers, body };
}

/** POSTs JSON (or raw text) and returns status, headers and parsed body. */
export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = { "content-type": "application/json" },
): Promise<TestResponse> {
  const payload = typeof body === "string" ? body : JSON.stringify(body);
  return read(await fetch(url, { method: "POST", headers, body: payload }));
}

/** GETs a URL and returns status, headers and parsed (JSON) or raw body. */
export async function get(url: string): Promise<TestResponse> {
  return read(await fetch(url));
}
