import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "./install.js";

/**
 * The synthetic bank customers in every test env's data volume, from the trainer's generator:
 * the seed's columns and rough marginals, its leaky Complain column included, so the example
 * TrainingRun trains on them and passes its gates.
 */
export const CUSTOMERS = { path: "customers.csv", rows: 10_000, seed: 5 } as const;

/** Writes the trainer's synthetic customers (`bank`: shaped like the seed; `telecom`) to `file`. */
export function synthesize(
  file: string,
  opts: { rows: number; seed: number; shape?: "bank" | "telecom" },
): void {
  execFileSync(join(repoRoot, ".venv", "bin", "python"), [
    ...["-m", "churn_trainer", "synth", "--shape", opts.shape ?? "bank"],
    ...["--rows", String(opts.rows), "--seed", String(opts.seed), "--output", file],
  ]);
}
