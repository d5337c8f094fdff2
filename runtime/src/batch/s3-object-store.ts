// S3 for batch shards: HEAD, ranged GET, whole-object PUT and a prefix listing, signed with
// SigV4 by aws4fetch (96 KB, no dependencies) over Node's own fetch. Chosen over
// @aws-sdk/client-s3 (22 MB in 27 packages, ~90 ms to require) because a shard needs four calls
// and path-style addressing, nothing of the SDK's middleware; the price is mapping S3's error
// XML to messages here. Credentials come only from the environment (a Secret's keys).
import { AwsClient } from "aws4fetch";
import type { ListedObject } from "./input-plan.js";
import type { ShardSummary } from "./shard-summary.js";

/** Where an object is. */
export interface S3Location {
  bucket: string;
  key: string;
}

/** `s3://bucket/key` (a key ending in `/` is a prefix). */
export function parseS3Location(uri: string): S3Location {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.*)$/.exec(uri);
  if (!m) throw new S3Error(`${JSON.stringify(uri)} is not s3://<bucket>/<key>`, "not-found");
  return { bucket: m[1] as string, key: m[2] as string };
}

/** True for an `s3://` location. */
export const isS3Location = (location: string) => location.startsWith("s3://");

/** True for an `s3://bucket/prefix/` location: every object under the prefix. */
export const isS3Prefix = (location: string) => isS3Location(location) && location.endsWith("/");

const XML_ENTITIES: Record<string, string> = {
  "&amp;": "&",
  "&lt;": "<",
  "&gt;": ">",
  "&quot;": '"',
  "&apos;": "'",
};
const xmlText = (s: string) =>
  s.replace(/&(amp|lt|gt|quot|apos|#x?[0-9a-fA-F]+);/g, (e) =>
    e.startsWith("&#")
      ? String.fromCodePoint(
          e[2] === "x" ? Number.parseInt(e.slice(3, -1), 16) : Number(e.slice(2, -1)),
        )
      : (XML_ENTITIES[e] ?? e),
  );
const xmlField = (xml: string, tag: string) => {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  return m ? xmlText(m[1] as string) : undefined;
};

/** One page of a ListObjectsV2 answer: its objects and the token of the next page, if any. */
export function parseListPage(xml: string): { objects: ListedObject[]; next?: string } {
  const objects: ListedObject[] = [];
  for (const m of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
    const c = m[1] as string;
    const key = xmlField(c, "Key");
    if (key === undefined) continue;
    objects.push({ key, size: Number(xmlField(c, "Size") ?? 0), etag: xmlField(c, "ETag") });
  }
  const truncated = xmlField(xml, "IsTruncated") === "true";
  const next = truncated ? xmlField(xml, "NextContinuationToken") : undefined;
  if (truncated && !next)
    throw new Error("ListObjectsV2: truncated page without a continuation token");
  return next ? { objects, next } : { objects };
}

/** Why S3 refused a request, from its error code: what the user should check. */
export type S3Problem = NonNullable<ShardSummary["s3Problem"]>;

/** A refused or failed S3 request, naming the object and what to check. */
export class S3Error extends Error {
  override readonly name = "S3Error";
  constructor(
    message: string,
    readonly problem: S3Problem,
  ) {
    super(message);
  }
}

/** How to reach a store: endpoint, region and keys. */
export interface S3Access {
  endpoint: string | undefined;
  region: string;
  accessKeyId: string | undefined;
  secretAccessKey: string | undefined;
}

/**
 * The store's access from the environment: `<prefix>ENDPOINT_URL_S3`, `<prefix>REGION`,
 * `<prefix>ACCESS_KEY_ID`, `<prefix>SECRET_ACCESS_KEY` (prefix `AWS_`, the SDKs' names, for the
 * input; another for an output in a store with other keys).
 */
export function s3AccessFromEnv(env: NodeJS.ProcessEnv, prefix = "AWS_"): S3Access {
  return {
    endpoint: env[`${prefix}ENDPOINT_URL_S3`] || undefined,
    region: env[`${prefix}REGION`] || "us-east-1",
    accessKeyId: env[`${prefix}ACCESS_KEY_ID`] || undefined,
    secretAccessKey: env[`${prefix}SECRET_ACCESS_KEY`] || undefined,
  };
}

const CREDENTIAL_CODES = new Set([
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "AuthorizationHeaderMalformed",
  "InvalidToken",
  "ExpiredToken",
]);

/** A minimal S3 client (path-style addressing: S3-compatible servers rarely serve subdomains). */
export class S3ObjectStore {
  private readonly client: AwsClient;
  private readonly endpoint: string;

  constructor(access: S3Access) {
    if (!access.accessKeyId || !access.secretAccessKey) {
      throw new S3Error(
        "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (the credentialsSecret's keys)",
        "credentials",
      );
    }
    this.client = new AwsClient({
      accessKeyId: access.accessKeyId,
      secretAccessKey: access.secretAccessKey,
      service: "s3",
      region: access.region,
      // A restarting server or a busy node: twice more, then the shard's own retry.
      retries: 2,
      initRetryMs: 200,
    });
    this.endpoint = (access.endpoint ?? `https://s3.${access.region}.amazonaws.com`).replace(
      /\/$/,
      "",
    );
  }

  private url(loc: S3Location, query = ""): string {
    const key = loc.key.split("/").map(encodeURIComponent).join("/");
    return `${this.endpoint}/${loc.bucket}/${key}${query}`;
  }

  private async request(loc: S3Location, init: RequestInit, query = ""): Promise<Response> {
    let res: Response;
    try {
      res = await this.client.fetch(this.url(loc, query), init);
    } catch (err) {
      const cause = (err as { cause?: Error }).cause?.message ?? (err as Error).message;
      throw new S3Error(
        `s3://${loc.bucket}/${loc.key}: cannot reach ${this.endpoint} (${cause}); check the endpoint`,
        "unavailable",
      );
    }
    if (res.ok) return res;
    throw await this.refusal(loc, init.method ?? "GET", res);
  }

  private async refusal(loc: S3Location, method: string, res: Response): Promise<S3Error> {
    const body = method === "HEAD" ? "" : await res.text().catch(() => "");
    const code =
      /<Code>([^<]+)<\/Code>/.exec(body)?.[1] ??
      ({ 403: "AccessDenied", 404: "NoSuchKey" } as Record<number, string>)[res.status] ??
      `HTTP ${res.status}`;
    const where = `s3://${loc.bucket}/${loc.key}`;
    if (CREDENTIAL_CODES.has(code) || (method === "HEAD" && res.status === 403)) {
      return new S3Error(
        `${where}: ${code}: the store refused the keys; check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the credentials Secret`,
        "credentials",
      );
    }
    if (code === "NoSuchKey" || code === "NoSuchBucket" || res.status === 404) {
      return new S3Error(`${where}: ${code}: no such object at ${this.endpoint}`, "not-found");
    }
    if (code === "AccessDenied") {
      return new S3Error(
        `${where}: AccessDenied: the keys may not use this object`,
        "access-denied",
      );
    }
    return new S3Error(`${where}: ${method} failed: ${code}`, "unavailable");
  }

  /** The object's size in bytes. */
  async size(loc: S3Location): Promise<number> {
    const res = await this.request(loc, { method: "HEAD" });
    return Number(res.headers.get("content-length"));
  }

  /** The bytes `[start, end)` of the object (to its end when `end` is undefined). */
  async get(loc: S3Location, start = 0, end?: number): Promise<Response> {
    const range =
      start > 0 || end !== undefined ? `bytes=${start}-${end === undefined ? "" : end - 1}` : "";
    return this.request(loc, { method: "GET", headers: range ? { range } : {} });
  }

  /** Every object under `prefix.key` (ListObjectsV2, page by page), in the store's key order. */
  async list(prefix: S3Location): Promise<ListedObject[]> {
    const all: ListedObject[] = [];
    let token: string | undefined;
    do {
      const q = new URLSearchParams({ "list-type": "2", prefix: prefix.key });
      if (token) q.set("continuation-token", token);
      const res = await this.request(
        { bucket: prefix.bucket, key: "" },
        { method: "GET" },
        `?${q}`,
      );
      const page = parseListPage(await res.text());
      all.push(...page.objects);
      token = page.next;
    } while (token);
    return all;
  }

  /** Writes the whole object at once: readers see the old or the new object, never a mix. */
  async put(loc: S3Location, body: Uint8Array): Promise<void> {
    const res = await this.request(loc, {
      method: "PUT",
      body: body as unknown as RequestInit["body"],
    });
    await res.arrayBuffer();
  }
}
