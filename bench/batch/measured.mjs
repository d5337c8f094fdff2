// Runs `churn-runtime` in this process (argv after the script), then prints the process's CPU
// time and peak RSS as JSON on stdout's last line: what bench/batch/run.mjs compares.
import { resourceUsage } from "node:process";

const { run } = await import(new URL("../../dist/runtime/src/cli.js", import.meta.url).href);
const code = await run(process.argv.slice(2));
const u = resourceUsage();
process.stdout.write(
  `${JSON.stringify({ code, cpuSeconds: (u.userCPUTime + u.systemCPUTime) / 1e6, maxRssKb: u.maxRSS })}\n`,
);
process.exit(code);
