import { describe, expect, it } from "vitest";
import { unchangedSince } from "./byte-source.js";

describe("unchangedSince", () => {
  const listed = { key: "in/a.csv", size: 10, etag: '"e1"' };
  const answer = (etag?: string) => new Response("", { headers: etag ? { etag } : {} });

  it("passes a GET whose ETag is the listed one", () => {
    expect(() => unchangedSince("s3://b/in/a.csv", listed, answer('"e1"'))).not.toThrow();
  });

  it("fails a GET of an object rewritten since the listing, naming both ETags", () => {
    expect(() => unchangedSince("s3://b/in/a.csv", listed, answer('"e2"'))).toThrow(
      /s3:\/\/b\/in\/a\.csv changed after the input was listed \(ETag "e1", now "e2"\)/,
    );
  });

  it("cannot compare without an ETag on either side, and lets the read go on", () => {
    expect(() => unchangedSince("s3://b/in/a.csv", listed, answer())).not.toThrow();
    expect(() =>
      unchangedSince("s3://b/in/a.csv", { key: "in/a.csv", size: 10 }, answer('"e2"')),
    ).not.toThrow();
  });
});
