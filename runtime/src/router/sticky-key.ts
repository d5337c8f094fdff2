// The key that keeps one customer on one variant: the configured sticky header's value, else
// the customer id the request is about (the model's id column), else none (the request is
// spread by weight). The id comes from wherever a scoring request carries it:
//   GET /v1/customers/{id}/score                      the path
//   POST /v1/score, /v1/explain {"instances": [...]}  the first instance's id column
//   POST /v2/... {"inputs": [{"name", "data"}]}       the first value of the id column's input
//                                                     (JSON data; under the binary tensor data
//                                                     extension, in the JSON before the binary)
// A number and its decimal string are the same customer.
import { HEADER_LENGTH } from "../http/v2/v2-routes.js";

/** The parts of a request the key is read from. */
export interface KeyedRequest {
  path: string;
  /** Header lookup (node lower-cases names). */
  header(name: string): string | undefined;
  contentType: string;
  body: Buffer;
}

const CUSTOMER_PATH = /^\/v1\/customers\/([^/]+)\/score$/;

/** The sticky key of a request, or undefined when it has none. */
export function stickyKeyOf(
  req: KeyedRequest,
  stickyHeader: string | null,
  idColumn: string | null | undefined,
): string | undefined {
  if (stickyHeader) {
    const v = req.header(stickyHeader);
    if (v) return v;
  }
  const byPath = CUSTOMER_PATH.exec(req.path);
  if (byPath) {
    try {
      return decodeURIComponent(byPath[1] as string);
    } catch {
      return undefined;
    }
  }
  const json = idColumn ? jsonPart(req) : undefined;
  if (!idColumn || !json || json.length === 0) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(json.toString("utf8"));
  } catch {
    return undefined;
  }
  return idOf(body, idColumn);
}

/** The JSON of a body: all of it, or under the binary tensor data extension its first N bytes. */
function jsonPart(req: KeyedRequest): Buffer | undefined {
  const declared = req.header(HEADER_LENGTH);
  if (declared !== undefined) {
    const n = Number(declared);
    return Number.isSafeInteger(n) && n >= 0 && n <= req.body.length
      ? req.body.subarray(0, n)
      : undefined;
  }
  // tritonclient sends its JSON with no content type.
  const v2 = req.path.startsWith("/v2/") && req.contentType === "";
  return v2 || isJson(req.contentType) ? req.body : undefined;
}

/** The first customer id a scoring body names. */
export function idOf(body: unknown, idColumn: string): string | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const { instances, inputs } = body as { instances?: unknown; inputs?: unknown };
  if (Array.isArray(instances)) {
    const first = instances[0];
    return typeof first === "object" && first !== null
      ? scalar((first as Record<string, unknown>)[idColumn])
      : undefined;
  }
  if (Array.isArray(inputs)) {
    const input = inputs.find(
      (i): i is { data?: unknown } =>
        typeof i === "object" && i !== null && (i as { name?: unknown }).name === idColumn,
    );
    let data = input?.data;
    while (Array.isArray(data)) data = data[0];
    return scalar(data);
  }
  return undefined;
}

function scalar(v: unknown): string | undefined {
  if (typeof v === "string") return v === "" ? undefined : v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  return undefined;
}

function isJson(contentType: string): boolean {
  const type = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  return type === "application/json" || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}
