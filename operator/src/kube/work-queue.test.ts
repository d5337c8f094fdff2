import { describe, expect, it } from "vitest";
import { WorkQueue } from "./work-queue.js";

describe("WorkQueue", () => {
  it("deduplicates a key that is queued twice", async () => {
    const q = new WorkQueue();
    q.add("a");
    q.add("a");
    q.add("b");
    expect(q.length).toBe(2);
    expect(await q.get()).toBe("a");
    expect(await q.get()).toBe("b");
  });

  it("never hands the same key to two workers; re-queues it on done when added meanwhile", async () => {
    const q = new WorkQueue();
    q.add("a");
    const first = await q.get();
    q.add("a");
    expect(q.length).toBe(0);
    let second: string | undefined;
    const waiting = q.get().then((k) => {
      second = k;
    });
    await Promise.resolve();
    expect(second).toBeUndefined();
    q.done(first as string);
    await waiting;
    expect(second).toBe("a");
  });

  it("delivers delayed keys, the earliest deadline winning", async () => {
    const q = new WorkQueue();
    q.addAfter("a", 60_000);
    q.addAfter("a", 1);
    expect(await q.get()).toBe("a");
  });

  it("counts and forgets failures per key", () => {
    const q = new WorkQueue(1, 10);
    q.addRateLimited("a");
    q.addRateLimited("a");
    expect(q.retries("a")).toBe(2);
    expect(q.retries("b")).toBe(0);
    q.forget("a");
    expect(q.retries("a")).toBe(0);
    q.shutDown();
  });

  it("releases waiting workers on shutdown and ignores later adds", async () => {
    const q = new WorkQueue();
    const pending = q.get();
    q.shutDown();
    expect(await pending).toBeUndefined();
    q.add("a");
    expect(await q.get()).toBeUndefined();
  });

  it("reports depth to its observer", () => {
    const depths: number[] = [];
    const q = new WorkQueue(5, 100, { depth: (n) => depths.push(n) });
    q.add("a");
    q.add("b");
    expect(depths.at(-1)).toBe(2);
  });
});
