import { describe, expect, it } from "vitest";
import { parseArtifactUri } from "../../api/artifact-uri.js";
import { type ScoringRun, scoringRunSpecSchema } from "../../api/scoring-run.js";
import type { ScoringModel } from "./resolve-scoring-model.js";
import { aggregateShardResults, decideScoringOutcome } from "./scoring-outcome.js";
import {
  type IndexedJobObservation,
  parseIndexes,
  type ShardPodObservation,
} from "./shard-observation.js";

const digest = "c".repeat(64);
const resolved: ScoringModel = {
  ok: true,
  model: { digest, uri: `pvc://m/${digest}` },
  location: parseArtifactUri(`pvc://m/${digest}`),
};

function run(spec: Record<string, unknown> = {}, status?: ScoringRun["status"]): ScoringRun {
  return {
    metadata: { name: "n", namespace: "ns", generation: 1 },
    spec: scoringRunSpecSchema.parse({
      model: { digest },
      input: { url: "http://x/c.csv" },
      output: { persistentVolumeClaim: { claimName: "s", path: "out" } },
      shards: 3,
      ...spec,
    }),
    status,
  };
}

function job(
  completed: number[],
  failed: number[] = [],
  conditions: IndexedJobObservation["conditions"] = [],
  extra: Partial<IndexedJobObservation> = {},
): IndexedJobObservation {
  return {
    name: "n-score",
    active: 3 - completed.length - failed.length,
    failed: 0,
    succeeded: completed.length,
    startTime: "2026-11-30T01:00:00Z",
    conditions,
    completedIndexes: completed,
    failedIndexes: failed,
    ...extra,
  };
}

const pod = (index: number, phase: string, scored: number, rejected: number, extra = {}) =>
  ({
    name: `p${index}-${phase}`,
    index,
    phase,
    exitCode: phase === "Succeeded" ? 0 : 1,
    summary: { index, read: scored + rejected, scored, rejected },
    ...extra,
  }) as ShardPodObservation;

/** A succeeded shard of an input prefix whose listing had digest `listing`. */
const listedPod = (index: number, listing: string) =>
  pod(index, "Succeeded", 10, 0, {
    summary: { index, read: 10, scored: 10, rejected: 0, inputListing: listing },
  });

const complete = [{ type: "Complete", status: "True", time: "2026-11-30T01:02:00Z" }];
const failedWith = (reason: string) => [
  { type: "Failed", status: "True", reason, message: reason, time: "2026-11-30T01:03:00Z" },
];

describe("decideScoringOutcome", () => {
  it.each([
    {
      name: "waits for the ChurnModel to serve a version",
      o: { model: { ok: false, terminal: false, message: "no version" } as ScoringModel },
      phase: "Pending",
      reason: "ModelNotResolved",
    },
    {
      name: "fails on an artifact it can never read",
      o: { model: { ok: false, terminal: true, message: "s3:// not yet" } as ScoringModel },
      phase: "Failed",
      reason: "ModelNotResolved",
    },
    {
      name: "fails a spec that cannot become a Job",
      o: { specProblem: "input: not supported" },
      phase: "Failed",
      reason: "InvalidSpec",
    },
    { name: "is pending before the Job exists", o: {}, phase: "Pending", reason: "NotStarted" },
    {
      name: "runs while shards run",
      o: { job: job([0]), pods: [pod(0, "Succeeded", 10, 0)] },
      phase: "Running",
      reason: "ShardsRunning",
    },
    {
      name: "says a shard pod was retried",
      o: { job: job([0], [], [], { failed: 1 }) },
      phase: "Running",
      reason: "ShardRetrying",
    },
    {
      name: "succeeds when every index completed",
      o: {
        job: job([0, 1, 2], [], complete),
        pods: [pod(0, "Succeeded", 10, 0), pod(1, "Succeeded", 10, 0), pod(2, "Succeeded", 9, 0)],
      },
      phase: "Succeeded",
      reason: "Succeeded",
    },
    {
      name: "fails when the run's rejects pass its limit though each shard kept it",
      o: {
        run: run({ maxRejectedRows: 2, maxRejectedPercent: 100 }),
        job: job([0, 1, 2], [], complete),
        pods: [pod(0, "Succeeded", 10, 1), pod(1, "Succeeded", 10, 1), pod(2, "Succeeded", 9, 1)],
      },
      phase: "Failed",
      reason: "RejectLimitExceeded",
    },
    {
      name: "succeeds when the shards read the same listing of an input prefix",
      o: {
        job: job([0, 1, 2], [], complete),
        pods: [0, 1, 2].map((i) => listedPod(i, "d1")),
      },
      phase: "Succeeded",
      reason: "Succeeded",
    },
    {
      name: "fails when shards read different listings of an input prefix (it changed mid-run)",
      o: {
        job: job([0, 1, 2], [], complete),
        pods: [listedPod(0, "d1"), listedPod(1, "d1"), listedPod(2, "d2")],
      },
      phase: "Failed",
      reason: "InputChanged",
    },
    {
      name: "names an unusable input (exit 2)",
      o: {
        job: job([], [], failedWith("PodFailurePolicy")),
        pods: [
          pod(1, "Failed", 0, 0, {
            exitCode: 2,
            summary: { index: 1, read: 0, scored: 0, rejected: 0, error: "cannot read" },
          }),
        ],
      },
      phase: "Failed",
      reason: "ScoringUnusable",
    },
    ...(
      [
        ["credentials", "S3CredentialsRefused"],
        ["not-found", "S3ObjectNotFound"],
        ["access-denied", "S3AccessDenied"],
      ] as const
    ).map(([s3Problem, reason]) => ({
      name: `names what S3 refused: ${s3Problem}`,
      o: {
        job: job([], [], failedWith("PodFailurePolicy")),
        pods: [
          pod(1, "Failed", 0, 0, {
            exitCode: 2,
            summary: {
              index: 1,
              read: 0,
              scored: 0,
              rejected: 0,
              error: "s3://b/k: ...",
              s3Problem,
            },
          }),
        ],
      },
      phase: "Failed" as const,
      reason,
    })),
    {
      name: "names an s3:// model the shard's init container refused",
      o: {
        job: job([0], [1], failedWith("MaxFailedIndexesExceeded")),
        pods: [
          pod(1, "Failed", 0, 0, {
            exitCode: undefined,
            summary: undefined,
            artifactRejected: "pod p1 refused the model artifact: model.onnx was changed",
          }),
        ],
      },
      phase: "Failed",
      reason: "ArtifactRejected",
    },
    {
      name: "names a shard over its reject limit (exit 3)",
      o: {
        job: job([0], [1], failedWith("MaxFailedIndexesExceeded")),
        pods: [
          pod(1, "Failed", 0, 0, {
            exitCode: 3,
            summary: { index: 1, read: 5, scored: 0, rejected: 5, error: "5 of 5" },
          }),
        ],
      },
      phase: "Failed",
      reason: "RejectLimitExceeded",
    },
    {
      name: "names a shard that failed all its retries",
      o: { job: job([0], [2], failedWith("MaxFailedIndexesExceeded")) },
      phase: "Failed",
      reason: "ShardFailed",
    },
    {
      name: "says the deadline passed",
      o: { job: job([0], [], failedWith("DeadlineExceeded")) },
      phase: "Failed",
      reason: "DeadlineExceeded",
    },
    {
      name: "fails when the started run's Job is gone",
      o: { run: run({}, { jobName: "n-score", startTime: "2026-11-30T01:00:00Z" }) },
      phase: "Failed",
      reason: "JobLost",
    },
  ])("$name", ({ o, phase, reason }) => {
    const out = decideScoringOutcome({ run: run(), model: resolved, pods: [], ...o });
    expect([out.phase, out.reason]).toEqual([phase, reason]);
    expect(out.terminal).toBe(phase === "Succeeded" || phase === "Failed");
    expect(out.conditions.map((c) => c.type)).toEqual(["ModelResolved", "Succeeded"]);
  });

  it("counts rows and shards from the Job and the shard reports", () => {
    const out = decideScoringOutcome({
      run: run(),
      model: resolved,
      job: job([0, 2], [], [], { active: 1 }),
      pods: [pod(0, "Succeeded", 10, 1), pod(1, "Running", 0, 0), pod(2, "Succeeded", 7, 0)],
    });
    expect(out.shards).toEqual({ total: 3, succeeded: 2, failed: 0, active: 1 });
    expect(out.rows).toEqual({ scored: 17, rejected: 1 });
    expect(out.message).toBe("2 of 3 shards done");
  });
});

describe("aggregateShardResults", () => {
  it("keeps counts of shards whose pods are gone, takes new ones once, ignores failed attempts", () => {
    const previous = [{ index: 1, scored: 5, rejected: 0 }];
    const pods = [
      pod(0, "Failed", 3, 0),
      pod(0, "Succeeded", 4, 1),
      pod(1, "Succeeded", 99, 0),
      pod(2, "Succeeded", 6, 0),
    ];
    expect(aggregateShardResults(previous, [0, 1], pods)).toEqual([
      { index: 0, scored: 4, rejected: 1 },
      { index: 1, scored: 5, rejected: 0 },
    ]);
  });
});

describe("parseIndexes", () => {
  it.each([
    [undefined, []],
    ["", []],
    ["3", [3]],
    ["0-2,5,7-8", [0, 1, 2, 5, 7, 8]],
  ])("%s -> %j", (text, want) => {
    expect(parseIndexes(text)).toEqual(want);
  });
});
