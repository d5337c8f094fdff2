import { z } from "zod";

// The trainer's spec (trainer/src/churn_trainer/spec.py), field for field and with the same
// camelCase keys, so TrainingRun.spec passes through unchanged. Defaults stay in the trainer
// (its one home); the CRD only states types, ranges and cross-field rules, and the trainer
// re-validates everything it reads.

const fraction = (what: string) => z.number().min(0).max(1).describe(what);
const openFraction = (what: string) => z.number().gt(0).lt(1).describe(what);
const scalar = z
  .union([z.string().max(256), z.int()])
  .describe(
    'A value as it appears in the CSV (string or integer). Quote words such as "Yes", "No", "On", "Off": unquoted, kubectl reads them as booleans, which are refused here.',
  );

const featureSchema = z
  .object({
    name: z.string().min(1).max(256).describe("Column name in the CSV."),
    type: z
      .enum(["numeric", "integer", "boolean", "categorical", "ordinal"])
      .describe("How the column is read and encoded."),
    nullable: z.boolean().optional().describe("Whether missing values are allowed. Default false."),
    impute: z
      .object({
        strategy: z
          .enum(["none", "median", "mean", "most_frequent", "constant"])
          .describe("How missing values are filled. median and mean need a numeric feature."),
        value: z
          .union([z.string().max(256), z.number(), z.boolean()])
          .optional()
          .describe(
            'The fill value; only with strategy constant. For a categorical or ordinal feature, one of its categories, quoted if it is a word like "Yes" (a boolean is refused); for a boolean feature, 0/1 or true/false.',
          ),
      })
      .optional()
      .describe("Missing-value handling of a nullable feature."),
    min: z.number().optional().describe("Smallest allowed value (numeric and integer features)."),
    max: z.number().optional().describe("Largest allowed value (numeric and integer features)."),
    values: z
      .array(scalar)
      .max(1000)
      .optional()
      .describe("Allowed categories of a categorical feature; learned from the data if absent."),
    order: z
      .array(scalar)
      .max(1000)
      .optional()
      .describe("Categories of an ordinal feature, lowest first."),
    unseen: z
      .enum(["ignore", "error"])
      .optional()
      .describe("What scoring does with a category never seen in training. Default ignore."),
    maxNullFraction: fraction("Largest allowed fraction of missing values.").optional(),
    maxCategories: z
      .int()
      .min(1)
      .max(10_000)
      .optional()
      .describe("Cap on learned categories of a categorical feature. Default 50."),
  })
  .describe("One raw model feature.")
  .meta({
    "x-kubernetes-validations": [
      {
        rule: "self.type == 'ordinal' ? has(self.order) : !has(self.order)",
        message: "order is required for, and only allowed on, ordinal features",
      },
      {
        rule: "!has(self.values) || self.type == 'categorical'",
        message: "values is only for categorical features",
      },
      {
        rule: "!has(self.min) || !has(self.max) || self.min <= self.max",
        message: "min must not exceed max",
      },
    ],
  });

const searchRange = z
  .object({
    // Plain typed arrays, not tuples or unions: a CEL rule can only name fields whose schema
    // is typed all the way down (an untyped item drops the field from CEL's view).
    int: z.array(z.int()).length(2).optional().describe("Whole numbers [low, high]."),
    float: z.array(z.number()).length(2).optional().describe("Numbers [low, high]."),
    log: z.boolean().optional().describe("Draw a float range uniformly on a log scale."),
    choice: z.array(z.number()).min(1).max(100).optional().describe("One of these numbers."),
  })
  .describe("One searched parameter: exactly one of int, float (optionally log) or choice.")
  .meta({
    "x-kubernetes-validations": [
      {
        rule: "(has(self.int) ? 1 : 0) + (has(self.float) ? 1 : 0) + (has(self.choice) ? 1 : 0) == 1",
        message: "give exactly one of int, float, choice",
      },
      { rule: "!has(self.log) || has(self.float)", message: "log is for float ranges" },
    ],
  });

const searchSchema = z
  .object({
    trials: z.int().min(1).max(10_000).optional().describe("Candidates to try. Default 30."),
    budgetSeconds: z
      .number()
      .gt(0)
      .optional()
      .describe(
        "Stop starting trials after this long. The winner then depends on the machine's speed; use trials for a reproducible model.",
      ),
    folds: z.int().min(2).max(20).optional().describe("Cross-validation folds. Default 5."),
    metric: z
      .enum(["rocAuc", "prAuc", "logLoss", "f2"])
      .optional()
      .describe("What the search maximises (logLoss: minimises). Default rocAuc."),
    space: z
      .record(z.string(), searchRange)
      .optional()
      .describe(
        "XGBoost parameters to search (snake_case) and their ranges; replaces the default space (max_depth 2-6, learning_rate, min_child_weight, subsample, colsample_bytree, reg_lambda, reg_alpha). Trial 1 is always the hyperparameters as given; with earlyStopping, n_estimators is the cap and each fold finds its trees.",
      ),
    refit: z
      .enum(["single", "bagFolds", "bagTop"])
      .optional()
      .describe(
        "What the best candidate becomes. single (default): one model on the training rows, early-stopped on the validation fold. bagFolds: the average of its cross-validation fold models (each early-stopped on its own held-out fold), served as one tree ensemble; the validation fold, unseen by every fold model, still fits the calibration and the threshold. bagTop: the 5 best candidates by cross-validation, each fitted as single is, averaged as one tree ensemble (less dependent on which of several near-equal candidates won).",
      ),
  })
  .describe(
    "Seeded random search with stratified k-fold cross-validation on the training rows only; the best candidate overrides hyperparameters.",
  );

/** Fields of TrainingRun.spec that the trainer reads. */
export const trainerSpecShape = {
  name: z
    .string()
    .min(1)
    .max(253)
    .optional()
    .describe("Model name recorded in the model card. Default churn-model."),
  schema: z
    .object({
      idColumn: z
        .string()
        .min(1)
        .max(256)
        .optional()
        .describe("Column identifying a customer; must be unique, never a feature."),
      target: z
        .object({
          column: z.string().min(1).max(256).describe("The label column."),
          positive: z
            .union([z.string().max(256), z.number(), z.boolean()])
            .optional()
            .describe(
              'The label value meaning churned. Default 1. A string or number matches cells equal to it (quote words: positive: "Yes"). A boolean, which is what kubectl makes of an unquoted Yes/No/On/Off/True/False, reads the column as word booleans (yes/no, true/false, y/n, t/f, 1/0): true selects the yes-words, false the no-words; a column holding any other word fails validation, naming its values.',
            ),
        })
        .describe("The label column and its positive value."),
      features: z
        .array(featureSchema)
        .min(1)
        .max(500)
        .describe("The model's raw features, in any order."),
      drop: z
        .array(z.string().min(1).max(256))
        .max(500)
        .optional()
        .describe("Columns to ignore (e.g. ones that leak the target, like Complain)."),
    })
    .describe("The data set's columns: id, target and every feature's type and allowed values."),
  expectations: z
    .object({
      minRows: z.int().min(1).optional().describe("Fewest rows accepted. Default 100."),
      minPositiveRate: fraction(
        "Lowest accepted share of positive labels. Default 0.01.",
      ).optional(),
      maxPositiveRate: fraction(
        "Highest accepted share of positive labels. Default 0.99.",
      ).optional(),
      maxUnivariateRocAuc: z
        .number()
        .gt(0.5)
        .max(1)
        .optional()
        .describe(
          "Leakage guard: any single feature whose ROC-AUC against the target exceeds this fails the run. Default 0.95.",
        ),
      uniqueIds: z.boolean().optional().describe("Whether idColumn must be unique. Default true."),
    })
    .optional()
    .describe("Data validation expectations, checked on every row.")
    .meta({
      "x-kubernetes-validations": [
        {
          rule: "!has(self.minPositiveRate) || !has(self.maxPositiveRate) || self.minPositiveRate <= self.maxPositiveRate",
          message: "minPositiveRate must not exceed maxPositiveRate",
        },
      ],
    }),
  split: z
    .object({
      testFraction: openFraction(
        "Share of rows held out for the test set. Default 0.1.",
      ).optional(),
      validationFraction: openFraction(
        "Share of the non-test rows used to choose the threshold. Default 0.1.",
      ).optional(),
      seed: z.int().optional().describe("Random seed of the split. Default 42."),
      stratified: z
        .boolean()
        .optional()
        .describe("Keep the class balance in every part. Default true."),
    })
    .optional()
    .describe("How rows are split into train, validation and test."),
  model: z
    .object({
      hyperparameters: z
        .record(z.string(), z.union([z.number(), z.string().max(256), z.boolean()]))
        .optional()
        .describe("XGBoost parameters (snake_case, as xgboost names them), e.g. max_depth: 4."),
      scalePosWeight: z
        .union([z.number(), z.string()])
        .optional()
        .describe(
          "Weight of positive examples: a positive number, or auto (= negatives/positives).",
        ),
      search: searchSchema.optional(),
      earlyStopping: z
        .object({
          rounds: z
            .int()
            .min(1)
            .describe("Stop adding trees after this many rounds without a better validation loss."),
        })
        .optional()
        .describe(
          "Early stopping on the validation fold; only the trees up to the best round are kept.",
        ),
    })
    .optional()
    .describe("XGBoost settings."),
  calibration: z
    .object({
      method: z
        .enum(["none", "sigmoid", "isotonic"])
        .describe(
          "sigmoid: Platt scaling folded into the trees, explanations sum to the calibrated log-odds; isotonic: a monotone map after the trees, explanations are of the uncalibrated margin.",
        ),
    })
    .optional()
    .describe(
      "Probability calibration fitted on the validation fold, inside the ONNX graph. Default none.",
    ),
  segments: z
    .array(z.string().min(1).max(256))
    .max(20)
    .optional()
    .describe(
      "Categorical, ordinal or boolean features whose every value gets its own test-set metrics (rows, positive rate, ROC-AUC, F2).",
    ),
  threshold: z
    .object({
      policy: z
        .enum(["fixed", "maxF1", "maxF2"])
        .describe(
          "fixed uses value; maxF1/maxF2 choose it on the validation fold, never the test set.",
        ),
      value: openFraction("The threshold, only with policy fixed.").optional(),
    })
    .optional()
    .describe("How the decision threshold is chosen. Default maxF2.")
    .meta({
      "x-kubernetes-validations": [
        {
          rule: "self.policy == 'fixed' ? has(self.value) : !has(self.value)",
          message: "threshold.value is required with policy fixed and not allowed otherwise",
        },
      ],
    }),
  gates: z
    .object({
      minRocAuc: fraction("Fail the run if test ROC-AUC is below this.").optional(),
      maxRocAuc: fraction(
        "Leak alarm: fail the run if test ROC-AUC is above this. Default 0.995.",
      ).optional(),
      minPrAuc: fraction("Fail the run if test PR-AUC is below this.").optional(),
      minRecall: fraction("Fail the run if test recall is below this.").optional(),
      minPrecision: fraction("Fail the run if test precision is below this.").optional(),
      minF1: fraction("Fail the run if test F1 is below this.").optional(),
      minF2: fraction("Fail the run if test F2 is below this.").optional(),
      minAccuracy: fraction("Fail the run if test accuracy is below this.").optional(),
      maxSegmentF2Gap: fraction(
        "Fail the run if a segment's F2 is more than this below the overall F2 (segments under 50 rows or 10 positives are reported, not gated); the failure names the segment.",
      ).optional(),
    })
    .optional()
    .describe("Metric gates on the test set; a failed gate fails the run and is named in status.")
    .meta({
      "x-kubernetes-validations": [
        {
          rule: "!has(self.minRocAuc) || !has(self.maxRocAuc) || self.minRocAuc <= self.maxRocAuc",
          message: "gates.minRocAuc must not exceed gates.maxRocAuc",
        },
      ],
    }),
};
