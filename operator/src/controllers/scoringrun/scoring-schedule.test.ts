import { describe, expect, it } from "vitest";
import { type ScoringRun, scoringRunSpecSchema } from "../../api/scoring-run.js";
import {
  decideFiring,
  firingStamp,
  runsToPrune,
  SCHEDULED_BY_LABEL,
  ScheduleError,
  scheduledRun,
} from "./scoring-schedule.js";

const t = (s: string) => new Date(`2026-11-30T${s}Z`);

describe("decideFiring", () => {
  it.each([
    {
      name: "nothing due before the first firing",
      since: "00:00:00",
      now: "01:59:59",
      fire: undefined,
    },
    { name: "fires at the firing itself", since: "00:00:00", now: "02:00:00", fire: "02:00:00" },
    { name: "fires a little late", since: "00:00:00", now: "02:30:00", fire: "02:00:00" },
    { name: "not twice", since: "02:00:00", now: "02:30:00", fire: undefined },
  ])("$name", ({ since, now, fire }) => {
    const d = decideFiring("0 2 * * *", t(since), t(now), 3600);
    expect(d.fire?.toISOString()).toBe(fire ? t(fire).toISOString() : undefined);
    expect(d.next.getTime()).toBeGreaterThan(t(now).getTime());
  });

  it("skips a firing missed by more than the deadline, and runs only the latest of many", () => {
    expect(decideFiring("0 2 * * *", t("00:00:00"), t("04:00:00"), 3600)).toMatchObject({
      missed: t("02:00:00"),
    });
    const week = decideFiring("0 * * * *", new Date("2026-11-23T00:00:00Z"), t("05:10:00"), 3600);
    expect(week.fire).toEqual(t("05:00:00"));
  });

  it("names a bad expression", () => {
    expect(() => decideFiring("every night", t("00:00:00"), t("01:00:00"), 60)).toThrow(
      ScheduleError,
    );
  });
});

const template: ScoringRun = {
  apiVersion: "churn.mlops.dev/v1alpha1",
  kind: "ScoringRun",
  metadata: { name: "nightly", namespace: "ns", uid: "u" },
  spec: scoringRunSpecSchema.parse({
    model: { churnModelRef: { name: "bank" } },
    input: { url: "http://x/c.csv" },
    output: { persistentVolumeClaim: { claimName: "s", path: "scores" } },
    schedule: { cron: "0 2 * * *" },
  }),
};

describe("scheduledRun", () => {
  it("is the template's run for one firing: no schedule, its own output folder, owned", () => {
    const r = scheduledRun(template, t("02:00:00"));
    expect(firingStamp(t("02:00:00"))).toBe("202611300200");
    expect(r.metadata?.name).toBe("nightly-202611300200");
    expect(r.metadata?.labels?.[SCHEDULED_BY_LABEL]).toBe("nightly");
    expect(r.metadata?.ownerReferences?.[0]?.uid).toBe("u");
    expect(r.spec.schedule).toBeUndefined();
    expect(r.spec.output.persistentVolumeClaim?.path).toBe("scores/202611300200");
    expect(r.spec.model).toEqual(template.spec.model);
  });
  it("gives each firing its own S3 prefix", () => {
    const s3 = {
      ...template,
      spec: {
        ...template.spec,
        output: { s3: { bucket: "scores", prefix: "nightly/" }, format: "parquet" as const },
      },
    };
    expect(scheduledRun(s3, t("02:00:00")).spec.output.s3?.prefix).toBe("nightly/202611300200/");
  });
});

describe("runsToPrune", () => {
  const run = (stamp: string, phase: "Succeeded" | "Running") =>
    ({ metadata: { name: `nightly-${stamp}` }, status: { phase } }) as ScoringRun;
  it("keeps the newest finished runs and every running one", () => {
    const runs = [
      run("202611280200", "Succeeded"),
      run("202611300200", "Running"),
      run("202611270200", "Succeeded"),
      run("202611290200", "Succeeded"),
    ];
    expect(runsToPrune(runs, 2).map((r) => r.metadata?.name)).toEqual(["nightly-202611270200"]);
    expect(runsToPrune(runs, 5)).toEqual([]);
  });
});
