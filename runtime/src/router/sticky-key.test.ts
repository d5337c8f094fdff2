import { describe, expect, it } from "vitest";
import { type KeyedRequest, stickyKeyOf } from "./sticky-key.js";

const req = (
  over: Partial<KeyedRequest> & { headers?: Record<string, string>; json?: unknown },
) => ({
  path: over.path ?? "/v1/score",
  header: (name: string) => over.headers?.[name],
  contentType: over.contentType ?? "application/json",
  body: over.body ?? Buffer.from(over.json === undefined ? "" : JSON.stringify(over.json)),
});

describe("stickyKeyOf", () => {
  const cases: [string, ReturnType<typeof req>, string | null, string | undefined][] = [
    [
      "the sticky header wins over the body",
      req({ headers: { "x-customer": "c-9" }, json: { instances: [{ CustomerId: 1 }] } }),
      "x-customer",
      "c-9",
    ],
    [
      "without the header, the first instance's id column",
      req({ json: { instances: [{ CustomerId: 15567232 }, { CustomerId: 2 }] } }),
      "x-customer",
      "15567232",
    ],
    ["a string id", req({ json: { instances: [{ CustomerId: "15567232" }] } }), null, "15567232"],
    ["the customer in the path", req({ path: "/v1/customers/a%2Fb/score" }), null, "a/b"],
    [
      "an Open Inference Protocol input named like the id column",
      req({
        path: "/v2/models/bank/infer",
        json: {
          inputs: [
            { name: "Age", data: [3] },
            { name: "CustomerId", data: [[7], [8]] },
          ],
        },
      }),
      null,
      "7",
    ],
    [
      "tritonclient's JSON, sent with no content type",
      req({
        path: "/v2/models/bank/infer",
        contentType: "",
        json: { inputs: [{ name: "CustomerId", data: ["c-1"] }] },
      }),
      null,
      "c-1",
    ],
    [
      "the JSON before binary tensor data (Inference-Header-Content-Length)",
      req({
        path: "/v2/models/bank/infer",
        contentType: "application/octet-stream",
        headers: { "inference-header-content-length": "52" },
        body: Buffer.concat([
          Buffer.from('{"inputs":[{"name":"CustomerId","data":[15567232]}]}'),
          Buffer.from([1, 2, 3, 4]),
        ]),
      }),
      null,
      "15567232",
    ],
    [
      "binary data whose header length is out of range",
      req({
        path: "/v2/models/bank/infer",
        contentType: "application/octet-stream",
        headers: { "inference-header-content-length": "999" },
        json: { inputs: [{ name: "CustomerId", data: [1] }] },
      }),
      null,
      undefined,
    ],
    ["no id in the instance", req({ json: { instances: [{ Age: 40 }] } }), null, undefined],
    ["an empty batch", req({ json: { instances: [] } }), null, undefined],
    ["a null id", req({ json: { instances: [{ CustomerId: null }] } }), null, undefined],
    [
      "not JSON",
      req({ body: Buffer.from("{nope"), contentType: "application/json" }),
      null,
      undefined,
    ],
    [
      "another content type",
      req({ json: { instances: [{ CustomerId: 1 }] }, contentType: "text/plain" }),
      null,
      undefined,
    ],
    ["no body", req({ path: "/v1/model" }), null, undefined],
  ];
  it.each(cases)("%s", (_, r, header, expected) => {
    expect(stickyKeyOf(r, header, "CustomerId")).toBe(expected);
  });

  it("has no body key while the id column is unknown or absent", () => {
    const r = req({ json: { instances: [{ CustomerId: 1 }] } });
    expect(stickyKeyOf(r, null, undefined)).toBeUndefined();
    expect(stickyKeyOf(r, null, null)).toBeUndefined();
  });
});
