import { describe, expect, it } from "vitest";
import { createJsonLogger } from "./json-log.js";

describe("createJsonLogger", () => {
  it("writes one JSON object per line: time, level, msg first, then component and fields", () => {
    const lines: string[] = [];
    const log = createJsonLogger({ component: "churn-test", write: (l) => lines.push(l) });
    log.info("started", { port: 8080, msg: "cannot override", level: "nor this" });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith("\n")).toBe(true);
    const o = JSON.parse(lines[0] ?? "");
    expect(Object.keys(o).slice(0, 4)).toEqual(["time", "level", "msg", "component"]);
    expect(o).toMatchObject({ level: "info", msg: "started", component: "churn-test", port: 8080 });
    expect(new Date(o.time).toISOString()).toBe(o.time);
  });

  it("filters by level, adds fields with `with`, and says nothing when silent", () => {
    const lines: string[] = [];
    const log = createJsonLogger({ component: "c", level: "warn", write: (l) => lines.push(l) });
    log.info("dropped");
    log.with({ requestId: "r1" }).warn("kept");
    expect(lines.map((l) => JSON.parse(l))).toMatchObject([{ msg: "kept", requestId: "r1" }]);
    const silent = createJsonLogger({
      component: "c",
      level: "silent",
      write: (l) => lines.push(l),
    });
    silent.error("nothing");
    expect(lines).toHaveLength(1);
    expect(silent.enabled("error")).toBe(false);
  });
});
