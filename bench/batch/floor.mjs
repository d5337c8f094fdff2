// The in-process floor: ModelService.predict on rows already parsed and typed, in batches, no
// file I/O. Prints rows, the CPU seconds of the predict calls and the peak RSS as JSON.
import { closeSync, openSync, readSync } from "node:fs";
import { resourceUsage } from "node:process";

const dist = new URL("../../dist/runtime/src/", import.meta.url).href;
const { loadArtifact } = await import(`${dist}artifact/artifact.js`);
const { ModelService } = await import(`${dist}model/model-service.js`);
const { RuntimeMetrics } = await import(`${dist}metrics.js`);
const { createLogger } = await import(`${dist}logger.js`);
const { parseCsv } = await import(`${dist}data/csv-reader.js`);
const { csvRecordTyper } = await import(`${dist}data/csv-record.js`);

const [modelDir, data, total, batch, topK] = process.argv.slice(2);
const artifact = await loadArtifact(modelDir);
const model = new ModelService(
  {
    explainWorkers: 1,
    intraOpThreads: 1,
    driftWindow: 1000,
    topDrivers: Math.max(1, Number(topK)),
  },
  new RuntimeMetrics({ processMetrics: false }),
  createLogger("silent"),
);
await model.start(artifact);
// At most 100,000 distinct rows are held; they are scored again until `total` rows are done.
// Only the file's head is read (a 10M-row CSV is past V8's longest string): 100,001 lines fit
// in 32 MB at ~85 bytes a row.
const head = Buffer.alloc(32 << 20);
const fd = openSync(data, "r");
const got = readSync(fd, head, 0, head.length, 0);
closeSync(fd);
const text = head.subarray(0, got).toString("utf8");
const [header, ...body] = parseCsv(
  text.slice(0, text.lastIndexOf("\n")).split("\n", 100_002).join("\n"),
);
const typed = csvRecordTyper(artifact.card, header);
const rows = body.map(typed);
const explain = Number(topK) > 0;
const t0 = process.cpuUsage();
let done = 0;
while (done < Number(total)) {
  const from = done % rows.length;
  const n = Math.min(Number(batch), rows.length - from, Number(total) - done);
  await model.predict(rows.slice(from, from + n), explain, "bench");
  done += n;
}
const cpu = process.cpuUsage(t0);
await model.close();
process.stdout.write(
  `${JSON.stringify({ rows: done, cpuSeconds: (cpu.user + cpu.system) / 1e6, maxRssKb: resourceUsage().maxRSS })}\n`,
);
