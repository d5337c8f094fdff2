import { describe, expect, it } from "vitest";
import {
  dataObjects,
  type ListedObject,
  listingDigest,
  pieceRows,
  planShard,
} from "./input-plan.js";

const obj = (key: string, size: number): ListedObject => ({ key, size });
const brief = (objects: ListedObject[], shards: number) =>
  Array.from({ length: shards }, (_, i) =>
    planShard(objects, shards, i).map((p) => `${p.object.key}:${p.start}-${p.end}`),
  );

describe("dataObjects", () => {
  it("keeps data objects in key order, skipping markers, empty objects and _/. names", () => {
    const listing = [
      obj("in/b.csv", 10),
      obj("in/", 0),
      obj("in/_SUCCESS", 0),
      obj("in/.a.csv.crc", 12),
      obj("in/sub/", 0),
      obj("in/empty.csv", 0),
      obj("in/a.csv", 5),
      obj("in/sub/c.csv", 7),
    ];
    expect(dataObjects(listing).map((o) => o.key)).toEqual([
      "in/a.csv",
      "in/b.csv",
      "in/sub/c.csv",
    ]);
  });
});

describe("planShard", () => {
  it.each<[string, ListedObject[], number, string[][]]>([
    [
      "one object is the single-object byte split",
      [obj("a", 100)],
      4,
      [["a:0-25"], ["a:25-50"], ["a:50-75"], ["a:75-100"]],
    ],
    [
      "objects of different sizes over 4 shards: ~1/4 of the bytes each",
      [obj("a", 10), obj("b", 50), obj("c", 40)],
      4,
      [["a:0-10", "b:0-15"], ["b:15-40"], ["b:40-50", "c:0-15"], ["c:15-40"]],
    ],
    [
      "more shards than bytes: some shards get nothing",
      [obj("a", 2), obj("b", 1)],
      5,
      [[], ["a:0-1"], [], ["a:1-2"], ["b:0-1"]],
    ],
    ["one shard reads every object whole", [obj("a", 3), obj("b", 4)], 1, [["a:0-3", "b:0-4"]]],
    ["no objects: no pieces", [], 3, [[], [], []]],
  ])("%s", (_what, objects, shards, expected) => {
    expect(brief(objects, shards)).toEqual(expected);
  });

  it("partitions every object exactly, whatever the sizes and shard count", () => {
    for (let seed = 1; seed < 200; seed++) {
      const objects = Array.from({ length: 1 + (seed % 7) }, (_, i) =>
        obj(`k${i}`, 1 + ((seed * 7919 * (i + 1)) % 1000)),
      );
      const shards = 1 + (seed % 13);
      const covered = new Map<string, number>(objects.map((o) => [o.key, 0]));
      let bytes = 0;
      for (let i = 0; i < shards; i++) {
        let mine = 0;
        for (const p of planShard(objects, shards, i)) {
          expect(p.start).toBe(covered.get(p.object.key));
          covered.set(p.object.key, p.end);
          mine += p.end - p.start;
        }
        bytes += mine;
        const total = objects.reduce((n, o) => n + o.size, 0);
        expect(Math.abs(mine - total / shards)).toBeLessThanOrEqual(1);
      }
      for (const o of objects) expect(covered.get(o.key)).toBe(o.size);
      expect(bytes).toBe(objects.reduce((n, o) => n + o.size, 0));
    }
  });
});

describe("pieceRows", () => {
  it("maps an object's byte pieces onto contiguous row ranges from 0 to its row count", () => {
    const o = obj("p.parquet", 1000);
    const ranges = [
      { start: 0, end: 333 },
      { start: 333, end: 999 },
      { start: 999, end: 1000 },
    ].map((r) => pieceRows({ object: o, ...r }, 7));
    expect(ranges).toEqual([
      { start: 0, end: 2 },
      { start: 2, end: 6 },
      { start: 6, end: 7 },
    ]);
  });

  it("stays exact past 2^53 (a 10 GB object of 10^8 rows)", () => {
    const o = obj("big.parquet", 10_000_000_000);
    expect(
      pieceRows({ object: o, start: 9_999_999_999, end: 10_000_000_000 }, 100_000_000),
    ).toEqual({
      start: 99_999_999,
      end: 100_000_000,
    });
  });
});

describe("listingDigest", () => {
  const listing = [
    { key: "in/a.csv", size: 10, etag: '"1"' },
    { key: "in/b.csv", size: 20, etag: '"2"' },
  ];
  it("is the same for the same objects, and differs when one is added, removed or rewritten", () => {
    const d = listingDigest(listing);
    expect(listingDigest(listing.map((o) => ({ ...o })))).toBe(d);
    expect(listingDigest([...listing, { key: "in/c.csv", size: 1, etag: '"3"' }])).not.toBe(d);
    expect(listingDigest(listing.slice(1))).not.toBe(d);
    expect(
      listingDigest([listing[0] as ListedObject, { ...(listing[1] as ListedObject), etag: '"9"' }]),
    ).not.toBe(d);
  });
});
