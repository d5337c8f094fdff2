import { describe, expect, it } from "vitest";
import {
  checkArtifactUri,
  parseArtifactUri,
  parseS3ArtifactUri,
  pvcArtifactUri,
} from "./artifact-uri.js";

const digest = "a".repeat(64);

describe("artifact URIs", () => {
  it("round-trips a pvc:// URI", () => {
    expect(parseArtifactUri(pvcArtifactUri("models", digest))).toEqual({
      scheme: "pvc",
      claimName: "models",
      path: digest,
    });
  });
  it("parses an s3:// artifact directory named by its digest", () => {
    expect(parseS3ArtifactUri(`s3://models/team/bank/${digest}/`, digest)).toEqual({
      bucket: "models",
      key: `team/bank/${digest}/`,
      digest,
    });
    expect(parseS3ArtifactUri(`s3://models/${digest}`, digest).key).toBe(`${digest}/`);
    expect(() => parseS3ArtifactUri("s3://models/bank/latest/", digest)).toThrow(/sha256 digest/);
    expect(() => parseS3ArtifactUri(`s3://models/${"b".repeat(64)}/`, digest)).toThrow(
      /not the directory of digest/,
    );
    expect(() => checkArtifactUri(`s3://models/${digest}/`, digest)).not.toThrow();
    expect(() => checkArtifactUri("pvc://models/../x", digest)).toThrow(/\.\. path segment/);
  });
  it.each([
    ["s3://bucket/x", /s3:\/\/ is not supported yet/],
    ["models/x", /is not <scheme>/],
    ["pvc://models/../etc", /\.\. path segment/],
    ["pvc://models/a//b", /empty or \.\. path segment/],
  ])("rejects %s", (uri, message) => {
    expect(() => parseArtifactUri(uri)).toThrow(message);
  });
});
