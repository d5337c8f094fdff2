import { describe, expect, it } from "vitest";
import { parseArtifactUri, pvcArtifactUri } from "./artifact-uri.js";

const digest = "a".repeat(64);

describe("artifact URIs", () => {
  it("round-trips a pvc:// URI", () => {
    expect(parseArtifactUri(pvcArtifactUri("models", digest))).toEqual({
      scheme: "pvc",
      claimName: "models",
      path: digest,
    });
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
