import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createLogger } from "../logger.js";
import { FileTrafficSource } from "./file-traffic-source.js";
import type { TrafficListener } from "./traffic-source.js";

const scratch = mkdtempSync(join(tmpdir(), "churn-traffic-file-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A listener whose reports can be awaited one by one. */
function reports() {
  const seen: string[] = [];
  const waiters: { match: (r: string) => boolean; resolve: () => void }[] = [];
  const push = (r: string) => {
    seen.push(r);
    for (const w of waiters.filter((w) => w.match(r))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  const listener: TrafficListener = {
    text: (text) => push(`text:${text}`),
    missing: (reason) => push(`missing:${reason}`),
  };
  const next = (match: (r: string) => boolean) =>
    seen.some(match)
      ? Promise.resolve()
      : new Promise<void>((resolve) => waiters.push({ match, resolve }));
  return { seen, listener, next };
}

describe("FileTrafficSource", () => {
  it("reports the file, then each edit, atomic replace and removal", async () => {
    const path = join(scratch, "traffic.json");
    writeFileSync(path, "one");
    const source = new FileTrafficSource(path, createLogger("silent"));
    const r = reports();
    source.start(r.listener);
    try {
      await r.next((x) => x === "text:one");
      writeFileSync(path, "two");
      await r.next((x) => x === "text:two");
      writeFileSync(`${path}.tmp`, "three");
      renameSync(`${path}.tmp`, path);
      await r.next((x) => x === "text:three");
      rmSync(path);
      await r.next((x) => x === `missing:${path} does not exist`);
      writeFileSync(path, "four");
      await r.next((x) => x === "text:four");
    } finally {
      await source.stop();
    }
    expect(r.seen.filter((x) => x.startsWith("text:")).at(-1)).toBe("text:four");
  });

  it("waits for a file that does not exist yet", async () => {
    const path = join(scratch, "later.json");
    const source = new FileTrafficSource(path, createLogger("silent"));
    const r = reports();
    source.start(r.listener);
    try {
      await r.next((x) => x.startsWith("missing:"));
      writeFileSync(join(scratch, "unrelated.json"), "x");
      writeFileSync(path, "now");
      await r.next((x) => x === "text:now");
      expect(r.seen.filter((x) => x.startsWith("text:"))).toEqual(["text:now"]);
    } finally {
      await source.stop();
    }
  });

  it("refuses to start when the directory does not exist", () => {
    const source = new FileTrafficSource(
      join(scratch, "no", "such", "dir.json"),
      createLogger("silent"),
    );
    expect(() => source.start(reports().listener)).toThrow(/ENOENT/);
  });
});
