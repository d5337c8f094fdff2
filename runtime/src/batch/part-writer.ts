// Writes one shard's files idempotently: everything goes to a temporary name in the output
// directory and is renamed into place only when complete, so a reader never sees half a part,
// and a retried shard (same index, same names) replaces its earlier attempt instead of adding
// a second file. A killed attempt leaves at most one stale temporary file, which the next
// attempt truncates.
import { once } from "node:events";
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { finished } from "node:stream/promises";
import { fileWriter, ParquetWriter } from "hyparquet-writer";
import { csvLine } from "./csv-line.js";
import type { OutputColumn } from "./output-columns.js";
import type { S3Location, S3ObjectStore } from "./s3-object-store.js";

/** A file written in batches and published atomically. */
export interface BatchFileWriter {
  /** The final path. */
  readonly path: string;
  write(columns: OutputColumn[]): Promise<void>;
  /** Renames the finished file into place. */
  commit(): Promise<void>;
  /** Removes the temporary file. */
  abort(): Promise<void>;
}

const tmpName = (dir: string, file: string) => join(dir, `.${file}.tmp`);

/** A CSV file: header, then one line per row. */
export async function csvFileWriter(
  dir: string,
  file: string,
  header: readonly string[],
): Promise<BatchFileWriter> {
  await mkdir(dir, { recursive: true });
  const tmp = tmpName(dir, file);
  const out: WriteStream = createWriteStream(tmp, { flags: "w" });
  // The stream's first error (a full disk, or a write still queued when abort() destroys it)
  // is kept and thrown by the next call, never left to crash the process as an unhandled
  // 'error' event.
  let failed: Error | undefined;
  out.on("error", (err) => {
    failed ??= err;
  });
  out.write(csvLine(header));
  return {
    path: join(dir, file),
    async write(columns) {
      if (failed) throw failed;
      const n = columns[0]?.data.length ?? 0;
      let text = "";
      for (let i = 0; i < n; i++) text += csvLine(columns.map((c) => c.data[i]));
      if (!out.write(text)) await once(out, "drain");
    },
    async commit() {
      if (failed) throw failed;
      out.end();
      await finished(out);
      await rename(tmp, join(dir, file));
    },
    async abort() {
      // Closed before the temporary file goes: a stream still opening would create it again.
      out.destroy();
      await finished(out).catch(() => {});
      await rm(tmp, { force: true });
    },
  };
}

/** A Parquet file: one row group per batch, every column nullable. */
export async function parquetFileWriter(
  dir: string,
  file: string,
  schema: readonly Omit<OutputColumn, "data">[],
): Promise<BatchFileWriter> {
  await mkdir(dir, { recursive: true });
  const tmp = tmpName(dir, file);
  const writer = new ParquetWriter({
    writer: fileWriter(tmp),
    schema: [
      { name: "root", num_children: schema.length },
      ...schema.map((c) => ({
        name: c.name,
        repetition_type: "OPTIONAL" as const,
        ...(c.type === "STRING"
          ? { type: "BYTE_ARRAY" as const, converted_type: "UTF8" as const }
          : { type: c.type }),
      })),
    ],
    createdBy: "churn-runtime batch",
  });
  return {
    path: join(dir, file),
    async write(columns) {
      const n = columns[0]?.data.length ?? 0;
      if (n === 0) return;
      await writer.write({
        columnData: columns.map((c) => ({
          name: c.name,
          // Strings as strings, not as views into a shared buffer: the writer keeps each row
          // group's min/max values until the file closes, so a view would keep its whole buffer.
          data: c.data as never,
          type: c.type,
        })),
        rowGroupSize: n,
      });
    },
    async commit() {
      writer.finish();
      await rename(tmp, join(dir, file));
    },
    async abort() {
      await rm(tmp, { force: true });
    },
  };
}

/**
 * A writer whose finished file is then uploaded to `s3://bucket/<prefix><file>` in one PUT
 * (atomic per object: readers see the previous attempt's part or this one, never half, and a
 * retried index overwrites its own key instead of adding one), and removed locally.
 */
export function uploadedOnCommit(
  local: BatchFileWriter,
  store: S3ObjectStore,
  target: S3Location,
): BatchFileWriter {
  return {
    path: `s3://${target.bucket}/${target.key}`,
    write: (columns) => local.write(columns),
    async commit() {
      await local.commit();
      try {
        await store.put(target, await readFile(local.path));
      } finally {
        await rm(local.path, { force: true });
      }
    },
    abort: () => local.abort(),
  };
}
