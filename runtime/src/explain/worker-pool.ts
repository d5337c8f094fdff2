// A fixed pool of SHAP worker threads with a FIFO queue; a crashed worker is replaced and only
// its own task fails.
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { TreeEnsemble } from "./onnx-trees.js";
import type { ShapReply, ShapTask } from "./shap-worker.js";
import { transferList } from "./transfer-list.js";

/** Consecutive worker crashes (with no answer in between) before the pool gives up. */
const MAX_CRASHES = 5;

/** Below this many rows per worker, splitting a batch costs more than it saves. */
const MIN_ROWS_PER_CHUNK = 32;

/** Raised for work sent to (or still queued in) a pool that is shutting down. */
export class PoolClosedError extends Error {
  override readonly name = "PoolClosedError";
  constructor() {
    super("the SHAP worker pool is closed");
  }
}

type Pending = {
  task: ShapTask;
  resolve: (v: Float64Array) => void;
  reject: (e: Error) => void;
};

/** Spawns the worker script, bootstrapping the TypeScript loader when running from source. */
function spawn(ensemble: TreeEnsemble, featureCount: number): Worker {
  const here = import.meta.url;
  const workerData = { ensemble, featureCount };
  if (here.endsWith(".ts")) {
    // Running from source (tests, tsx): register tsx inside the worker, then load the .ts entry.
    const api = createRequire(here)
      .resolve("tsx/esm/api")
      .replace(/\.cjs$/, ".mjs");
    const entry = new URL("./shap-worker.ts", here).href;
    const code = `import(${JSON.stringify(pathToFileURL(api).href)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
    return new Worker(code, { eval: true, workerData });
  }
  return new Worker(new URL("./shap-worker.js", here), { workerData });
}

/** Explains encoded rows on `size` worker threads. */
export class ShapWorkerPool {
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Pending>();
  private readonly queue: Pending[] = [];
  private readonly all = new Set<Worker>();
  private nextId = 1;
  private closed = false;
  /** Crashes since the last answer; past MAX_CRASHES the pool stops respawning. */
  private crashes = 0;

  constructor(
    private readonly ensemble: TreeEnsemble,
    private readonly featureCount: number,
    readonly size: number,
  ) {
    if (size < 1) throw new Error("the SHAP worker pool needs at least one worker");
    for (let i = 0; i < size; i++) this.add();
  }

  private add(): void {
    const worker = spawn(this.ensemble, this.featureCount);
    this.all.add(worker);
    worker.on("message", (reply: ShapReply) => {
      this.crashes = 0;
      const pending = this.busy.get(worker);
      this.busy.delete(worker);
      if (pending) {
        if ("error" in reply) pending.reject(new Error(`SHAP worker: ${reply.error}`));
        else pending.resolve(reply.contributions);
      }
      this.release(worker);
    });
    worker.on("error", (err) => this.replace(worker, err));
    worker.on("exit", (code) => {
      if (this.all.has(worker)) this.replace(worker, new Error(`SHAP worker exited with ${code}`));
    });
    this.release(worker);
  }

  private replace(worker: Worker, err: Error): void {
    if (!this.all.delete(worker)) return;
    const pending = this.busy.get(worker);
    this.busy.delete(worker);
    const i = this.idle.indexOf(worker);
    if (i >= 0) this.idle.splice(i, 1);
    pending?.reject(err);
    void worker.terminate();
    if (this.closed) return;
    if (++this.crashes > MAX_CRASHES) {
      // Workers that die on start would otherwise respawn forever.
      this.closed = true;
      for (const p of this.queue.splice(0)) p.reject(err);
      return;
    }
    this.add();
  }

  private release(worker: Worker): void {
    const next = this.queue.shift();
    if (next) {
      this.busy.set(worker, next);
      worker.postMessage(next.task, transferList(next.task.features));
    } else {
      this.idle.push(worker);
    }
  }

  /**
   * Explains `rows` rows of encoded features (row-major); resolves featureCount + 1 values per
   * row. Large batches are split across the workers.
   */
  async explain(features: Float32Array, rows: number): Promise<Float64Array> {
    const f = this.featureCount;
    const chunks = Math.min(this.size, Math.floor(rows / MIN_ROWS_PER_CHUNK));
    if (chunks <= 1) return this.run(features, rows);
    const per = Math.ceil(rows / chunks);
    const parts: Promise<Float64Array>[] = [];
    for (let start = 0; start < rows; start += per) {
      const n = Math.min(per, rows - start);
      parts.push(this.run(features.subarray(start * f, (start + n) * f), n));
    }
    const results = await Promise.all(parts);
    const out = new Float64Array(rows * (f + 1));
    let offset = 0;
    for (const r of results) {
      out.set(r, offset);
      offset += r.length;
    }
    return out;
  }

  private run(features: Float32Array, rows: number): Promise<Float64Array> {
    if (this.closed) return Promise.reject(new PoolClosedError());
    // Copy so the caller's buffer is never detached by a transfer.
    const task: ShapTask = { id: this.nextId++, rows, features: features.slice() };
    return new Promise((resolve, reject) => {
      const pending = { task, resolve, reject };
      const worker = this.idle.pop();
      if (worker) {
        this.busy.set(worker, pending);
        worker.postMessage(task, transferList(task.features));
      } else {
        this.queue.push(pending);
      }
    });
  }

  /** Rows waiting for a free worker (for back-pressure decisions). */
  get queuedTasks(): number {
    return this.queue.length;
  }

  /** Terminates every worker; queued and running tasks are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(new PoolClosedError());
    for (const p of this.busy.values()) p.reject(new PoolClosedError());
    this.busy.clear();
    const workers = [...this.all];
    this.all.clear();
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
