// baseline.json: the trainer's reference distributions of each raw feature and of the score,
// binned as the drift monitor compares them.
import { z } from "zod";

const edges = z.array(z.number().nullable()).min(2);
const fractions = z.array(z.number().min(0));

/** baseline.json as the runtime reads it. */
export const baselineSchema = z.looseObject({
  features: z.record(
    z.string(),
    z.union([
      z.looseObject({ type: z.literal("numeric"), bins: edges, fractions }),
      z.looseObject({
        type: z.literal("categorical"),
        categories: z.array(z.string()).min(1),
        fractions,
      }),
    ]),
  ),
  score: z.looseObject({ bins: edges, fractions }),
});
export type Baseline = z.infer<typeof baselineSchema>;
