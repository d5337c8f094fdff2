import { describe, expect, it } from "vitest";
import { parseListPage } from "./s3-object-store.js";

const page = (contents: string, tail: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>b</Name>${contents}${tail}</ListBucketResult>`;

describe("parseListPage", () => {
  it("reads keys (entities decoded), sizes and ETags, and the next page's token", () => {
    const xml = page(
      "<Contents><Key>in/a&amp;b.csv</Key><LastModified>2026-01-01T00:00:00Z</LastModified><ETag>&quot;e1&quot;</ETag><Size>12</Size></Contents><Contents><Key>in/</Key><Size>0</Size></Contents>",
      "<IsTruncated>true</IsTruncated><NextContinuationToken>tok/1+=</NextContinuationToken>",
    );
    expect(parseListPage(xml)).toEqual({
      objects: [
        { key: "in/a&b.csv", size: 12, etag: '"e1"' },
        { key: "in/", size: 0, etag: undefined },
      ],
      next: "tok/1+=",
    });
  });

  it("ends on a page that is not truncated", () => {
    expect(parseListPage(page("", "<IsTruncated>false</IsTruncated>"))).toEqual({ objects: [] });
  });

  it("refuses a truncated page without a token (listing it again would loop)", () => {
    expect(() => parseListPage(page("", "<IsTruncated>true</IsTruncated>"))).toThrow(
      /continuation token/,
    );
  });
});
