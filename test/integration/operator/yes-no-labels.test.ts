import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { noProcessNode, testCluster, waitFor } from "../../../cluster/testing/index.js";
import type { TrainingRun } from "../../../operator/src/api/training-run.js";
import {
  churnModelType,
  trainingRunType,
} from "../../../operator/src/controllers/shared/custom-resources.js";
import { Resources } from "../../../operator/src/kube/resources.js";
import { apply, kubectlApply } from "./support/kube.js";
import { type OperatorEnv, servingModel, setupOperatorEnv } from "./support/operator-env.js";
import type { OperatorProcess } from "./support/operator-process.js";
import { waitForModelReady, waitForRunFinished } from "./support/status.js";
import { synthesize } from "./support/synthetic-customers.js";

// The most common churn data shape: a Yes/No target and Yes/No categories (the trainer's
// telecom-shaped synthetic data). Manifests go through the real kubectl, whose YAML reader
// turns an unquoted Yes into true, so both spellings a user may write are tested as users
// send them: quoted trains, unquoted trains the same model, unquoted against other words stops
// naming them, and unquoted category lists are refused by the API.

/** A telecom TrainingRun manifest; `positive` and `partnerValues` are inserted verbatim. */
function telecomRun(ns: string, name: string, positive: string, data = "telecom.csv"): string {
  return `apiVersion: churn.mlops.dev/v1alpha1
kind: TrainingRun
metadata: { name: ${name}, namespace: ${ns} }
spec:
  name: telecom-churn
  dataset:
    persistentVolumeClaim: { claimName: churn-data, path: ${data} }
    delimiter: ";"
  schema:
    idColumn: customerID
    target: { column: Churn, positive: ${positive} }
    drop: [Notes]
    features:
      - { name: SeniorCitizen, type: boolean }
      - { name: Partner, type: categorical, values: ["Yes", "No"] }
      - { name: Dependents, type: categorical, values: ["Yes", "No"] }
      - { name: tenure, type: integer, min: 0, max: 72 }
      - { name: PhoneService, type: boolean }
      - { name: MultipleLines, type: categorical, values: ["Yes", "No", "No phone service"] }
      - name: InternetService
        type: categorical
        nullable: true
        impute: { strategy: constant, value: "No" }
        maxNullFraction: 0.2
      - { name: Contract, type: ordinal, order: [Month-to-month, One year, Two year] }
      - { name: PaperlessBilling, type: boolean }
      - { name: PaymentMethod, type: categorical }
      - { name: MonthlyCharges, type: numeric, nullable: true, impute: { strategy: median } }
      - { name: TotalCharges, type: numeric, nullable: true }
  expectations: { minRows: 500 }
  split: { testFraction: 0.2, seed: 3 }
  model: { hyperparameters: { n_estimators: 60, max_depth: 4, learning_rate: 0.1 } }
  gates: { minRocAuc: 0.7 }
`;
}

describe.skipIf(noProcessNode)(
  "Yes/No labels and categories through kubectl and the operator",
  () => {
    const { kubeconfig } = testCluster();
    let env: OperatorEnv;
    let op: OperatorProcess;
    let quoted: TrainingRun;
    let unquoted: TrainingRun;

    beforeAll(async () => {
      env = await setupOperatorEnv("yesno");
      op = await env.startOperator("op-yesno");
      const csv = join(env.dataDir, "telecom.csv");
      synthesize(csv, { shape: "telecom", rows: 3000, seed: 4 });
      // The same customers with labels that are not booleans in any reading.
      const words = readFileSync(csv, "utf8").replace(/;(Yes|No)$/gm, (_, v: string) =>
        v === "Yes" ? ";Churned" : ";Stayed",
      );
      writeFileSync(join(env.dataDir, "words.csv"), words);
      for (const [name, positive, data] of [
        ["quoted", '"Yes"', undefined],
        ["unquoted", "Yes", undefined],
        ["unquoted-words", "Yes", "words.csv"],
      ] as const) {
        const r = kubectlApply(telecomRun(env.ns, name, positive, data), kubeconfig);
        expect(r.status, r.output).toBe(0);
      }
      [quoted, unquoted] = await Promise.all([
        waitForRunFinished(env.client, env.ns, "quoted"),
        waitForRunFinished(env.client, env.ns, "unquoted"),
      ]);
    });

    afterAll(async () => {
      await env?.cleanup();
    });

    it("stores what kubectl read: the quoted label as text, the unquoted one as a boolean", () => {
      expect(quoted.spec.schema.target.positive).toBe("Yes");
      expect(unquoted.spec.schema.target.positive).toBe(true);
    });

    it("trains the quoted form to Succeeded", () => {
      expect(quoted.status?.phase, `${JSON.stringify(quoted.status)}\n${op.tail()}`).toBe(
        "Succeeded",
      );
      expect(quoted.status?.metrics?.rocAuc).toBeGreaterThan(0.7);
    });

    it("trains the unquoted form to the very same model (true selects the yes-words)", () => {
      expect(unquoted.status?.phase, JSON.stringify(unquoted.status)).toBe("Succeeded");
      expect(unquoted.status?.model?.digest).toBe(quoted.status?.model?.digest);
    });

    it("stops an unquoted Yes against other words, naming the column's values and the fix", async () => {
      const run = await waitForRunFinished(env.client, env.ns, "unquoted-words");
      expect(run.status?.phase).toBe("Failed");
      const dv = run.status?.conditions?.find((c) => c.type === "DataValidated");
      expect([dv?.status, dv?.reason]).toEqual(["False", "DataValidationFailed"]);
      expect(run.status?.failedChecks?.join(" ")).toContain("target.positive");
      expect(dv?.message).toContain("'Stayed'");
      expect(dv?.message).toContain("'Churned'");
      expect(dv?.message).toContain('positive: "Yes"');
    });

    it("refuses unquoted Yes/No category lists at the API, naming the field", async () => {
      const manifest = telecomRun(env.ns, "unquoted-values", '"Yes"').replace(
        'values: ["Yes", "No"] }',
        "values: [Yes, No] }",
      );
      const r = kubectlApply(manifest, kubeconfig);
      expect(r.status).not.toBe(0);
      expect(r.output).toContain("spec.schema.features[1].values[0]");
      expect(await env.client.get(trainingRunType, env.ns, "unquoted-values")).toBeUndefined();
    });

    it("serves it: Yes/No customers score like the trainer's reference rows", async () => {
      await apply(env.client, servingModel(env.ns, "telecom", "quoted", { replicas: 1 }));
      await waitForModelReady(env.client, env.ns, "telecom");
      const digest = quoted.status?.model?.digest as string;
      const reference = JSON.parse(
        readFileSync(join(env.modelsDir, digest, "reference.json"), "utf8"),
      ) as { rows: Record<string, unknown>[]; probabilities: number[] };
      expect(reference.rows.some((r) => r.Partner === "Yes")).toBe(true);
      expect(reference.rows.some((r) => r.MultipleLines === "No phone service")).toBe(true);
      const pods = await env.client.list<V1Pod>(Resources.pods, env.ns, {
        labelSelector: "churn.mlops.dev/churn-model=telecom,app.kubernetes.io/component=serving",
      });
      const ip = pods.items.find((p) => !p.metadata?.deletionTimestamp)?.status?.podIP;
      const res = await fetch(`http://${ip}:8080/v1/score`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ instances: reference.rows }),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { predictions: { probability: number }[] };
      const worst = Math.max(
        ...body.predictions.map((p, i) =>
          Math.abs(p.probability - (reference.probabilities[i] as number)),
        ),
      );
      expect(worst).toBeLessThanOrEqual(1e-5);
    });

    it("forgets every object's remembered state once the objects are deleted", async () => {
      const remembered = (controller: string) =>
        op.metric("churn_operator_remembered_objects", { controller });
      expect(await remembered("trainingrun")).toBeGreaterThan(0);
      expect(await remembered("churnmodel")).toBe(1);
      await env.client.delete(churnModelType, env.ns, "telecom");
      for (const name of ["quoted", "unquoted", "unquoted-words"])
        await env.client.delete(trainingRunType, env.ns, name);
      await waitFor("the operator to forget the deleted objects", async () =>
        (await remembered("trainingrun")) === 0 && (await remembered("churnmodel")) === 0
          ? true
          : undefined,
      );
    });
  },
);
