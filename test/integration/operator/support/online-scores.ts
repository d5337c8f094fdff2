import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { V1Pod } from "@kubernetes/client-node";
import { parquetReadObjects } from "hyparquet";
import { expect } from "vitest";
import type { KubeClient } from "../../../../operator/src/kube/kube-client.js";
import { Resources } from "../../../../operator/src/kube/resources.js";
import { parseCsv } from "../../../../runtime/src/data/csv-reader.js";
import { CUSTOMERS } from "./synthetic-customers.js";

/** A customers file (the synthetic one of an env's data directory by default): header and rows. */
export function customerRows(
  dataDir: string,
  file: string = CUSTOMERS.path,
): { header: string[]; rows: string[][] } {
  const [header, ...rows] = parseCsv(readFileSync(resolve(dataDir, file), "utf8")) as [
    string[],
    ...string[][],
  ];
  return { header, rows };
}

/** Adds each row of a Parquet part to `into` by customer id, failing on a duplicate. */
export async function addPartRows(file: ArrayBuffer, into: Map<string, number>): Promise<void> {
  for (const r of await parquetReadObjects({ file })) {
    expect(into.has(r.CustomerId), `customer ${r.CustomerId} twice`).toBe(false);
    into.set(r.CustomerId as string, r.probability as number);
  }
}

/**
 * Checks that every 97th customer of `file` (the env's synthetic customers by default) gets, from ChurnModel `model`'s serving pod through POST
 * /v1/score (as an application would send it), exactly the probability in `scored`.
 */
export async function expectOnlineScoresEqual(
  client: KubeClient,
  ns: string,
  model: string,
  dataDir: string,
  scored: ReadonlyMap<string, number>,
  file: string = CUSTOMERS.path,
): Promise<void> {
  const { header, rows } = customerRows(dataDir, file);
  const text = new Set(["Surname", "Geography", "Gender", "Card Type"]);
  const sample = rows.filter((_, i) => i % 97 === 0);
  const instances = sample.map((cells) => {
    const row: Record<string, unknown> = {};
    header.forEach((name, i) => {
      const v = cells[i] as string;
      if (name === "RowNumber") return;
      row[name] = text.has(name) ? v : v === "" ? null : Number(v);
    });
    return row;
  });
  const pods = await client.list<V1Pod>(Resources.pods, ns, {
    labelSelector: `churn.mlops.dev/churn-model=${model},app.kubernetes.io/component=serving`,
  });
  const ip = pods.items.find((p) => p.status?.podIP)?.status?.podIP;
  const res = await fetch(`http://${ip}:8080/v1/score`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ instances }),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { predictions: Array<{ id: number; probability: number }> };
  expect(body.predictions).toHaveLength(sample.length);
  for (const p of body.predictions) {
    expect(Object.is(scored.get(String(p.id)), p.probability), `customer ${p.id}`).toBe(true);
  }
}
