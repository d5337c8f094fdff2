// `--traffic-file`: traffic.json from a local file, for running without Kubernetes and for
// tests. The directory is watched rather than the file, so an atomic replace (write a temporary
// file, rename it over) is seen like an in-place edit.
import { type FSWatcher, watch } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import type { Logger } from "../logger.js";
import type { TrafficListener, TrafficSource } from "./traffic-source.js";

/** Events within this many milliseconds are read once: an in-place write truncates, then writes. */
const SETTLE_MS = 25;

/** Reports a file's content at start and after every change. */
export class FileTrafficSource implements TrafficSource {
  readonly description: string;
  private readonly path: string;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    path: string,
    private readonly logger: Logger,
  ) {
    this.path = resolve(path);
    this.description = `file ${this.path}`;
  }

  start(listener: TrafficListener): void {
    const name = basename(this.path);
    // Throws at once when the directory does not exist: a typo should stop the process.
    this.watcher = watch(dirname(this.path), (_event, file) => {
      if (file === null || file === name) this.schedule(listener);
    });
    this.watcher.on("error", (err) => {
      this.logger.error("traffic file watch failed", { path: this.path, error: err.message });
    });
    this.read(listener);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.watcher?.close();
    await this.reading;
  }

  private schedule(listener: TrafficListener): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.read(listener), SETTLE_MS);
  }

  private read(listener: TrafficListener): void {
    // One read at a time, in order, so an older content never overtakes a newer one.
    this.reading = this.reading.then(async () => {
      if (this.stopped) return;
      try {
        const text = await readFile(this.path, "utf8");
        if (!this.stopped) listener.text(text, this.description);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (!this.stopped) {
          listener.missing(
            e.code === "ENOENT"
              ? `${this.path} does not exist`
              : `cannot read ${this.path}: ${e.message}`,
          );
        }
      }
    });
  }
}
