import type { CrdDefinition } from "./crd-manifest.js";
import {
  scoringRunSpecSchema,
  scoringRunStatusSchema,
  scoringSpecImmutableOnceStarted,
} from "./scoring-run.js";

/** The ScoringRun kind: what `crds/` is generated from. */
export const scoringRunCrd: CrdDefinition = {
  kind: "ScoringRun",
  plural: "scoringruns",
  singular: "scoringrun",
  shortNames: ["sr"],
  description:
    "A ScoringRun scores a whole file of customers with one model version, as an Indexed Job whose shards stream their slice through the same graph and code as the online server, into one part file each.",
  spec: scoringRunSpecSchema,
  status: scoringRunStatusSchema,
  validations: [scoringSpecImmutableOnceStarted],
  printerColumns: [
    { name: "Phase", type: "string", jsonPath: ".status.phase" },
    { name: "Shards", type: "integer", jsonPath: ".status.shards.total" },
    { name: "Done", type: "integer", jsonPath: ".status.shards.succeeded" },
    { name: "Failed", type: "integer", jsonPath: ".status.shards.failed", priority: 1 },
    { name: "Scored", type: "integer", jsonPath: ".status.rows.scored" },
    { name: "Rejected", type: "integer", jsonPath: ".status.rows.rejected" },
    { name: "Duration", type: "number", jsonPath: ".status.durationSeconds", priority: 1 },
    { name: "Digest", type: "string", jsonPath: ".status.model.digest", priority: 1 },
    { name: "Output", type: "string", jsonPath: ".status.output.location", priority: 1 },
    { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
  ],
};
