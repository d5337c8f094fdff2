import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { containerLogFile } from "./kubelet-server.js";

describe("containerLogFile", () => {
  const pods = mkdtempSync(join(tmpdir(), "pods-"));
  const attempt = (podDir: string, n: number) => {
    mkdirSync(join(pods, podDir, "logs", "main"), { recursive: true });
    const f = join(pods, podDir, "logs", "main", `${n}.log`);
    writeFileSync(f, `attempt ${n}\n`);
    return f;
  };
  const old = attempt("ns_web_uid-old", 0);
  utimesSync(join(pods, "ns_web_uid-old"), new Date(1000), new Date(1000));
  attempt("ns_web_uid-new", 0);
  attempt("ns_web_uid-new", 1);
  const latest = attempt("ns_web_uid-new", 2);

  it("picks the newest pod incarnation's latest attempt, or the one before with previous", () => {
    expect(containerLogFile(pods, "ns", "web", "main", false)).toBe(latest);
    expect(containerLogFile(pods, "ns", "web", "main", true)).toBe(
      join(pods, "ns_web_uid-new", "logs", "main", "1.log"),
    );
    expect(old).not.toBe(latest);
  });

  it("returns null for unknown pods and containers", () => {
    expect(containerLogFile(pods, "ns", "nope", "main", false)).toBeNull();
    expect(containerLogFile(pods, "ns", "web", "other", false)).toBeNull();
  });
});
