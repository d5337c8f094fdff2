// The router's reading of its traffic configuration: the JSON the operator writes under
// `traffic.json` in the model's traffic ConfigMap (operator/src/controllers/churnmodel/
// build-router.ts is the writer; traffic-config.test.ts parses the writer's output, so the two
// cannot drift apart). Unknown keys are ignored so an older router keeps routing when the
// operator learns new fields.
import { z } from "zod";
import { DNS_TARGET } from "./dns-poll.js";

/** The key of the router's configuration in the traffic ConfigMap. */
export const TRAFFIC_KEY = "traffic.json";

const digest = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, { error: "must be a sha256 digest (64 hex characters)" })
  .transform((d) => d.toLowerCase());
const upstreamUrl = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" });
const percent = z
  .number({ error: (issue) => (issue.input === undefined ? "is required" : "must be a number") })
  .min(0, { error: "must be at least 0" })
  .max(100, { error: "must be at most 100" });
// A gRPC endpoint as the router dials it (absent: the variant has no gRPC): host:port, one
// connection; or dns:[//dns-server]/host:port, the name's every address, calls balanced over
// them and the name re-resolved as they change (dns-poll-resolver.ts).
const grpcTarget = z
  .string()
  .regex(/^(dns:(\/\/[^\s/]*)?\/)?[^\s/]+:[0-9]{1,5}$/, {
    error: "must be host:port or dns:///host:port",
  })
  .optional();
// A version's pods for HTTP (absent: its `url` alone): dns:[//dns-server]/host:port, the
// name of its headless Service, each request sent to one of the addresses it answers
// (pod-pool.ts), the `url` while it answers none. Routers that predate it ignore it.
const httpTarget = z.string().regex(DNS_TARGET, { error: "must be dns:///host:port" }).optional();
// An HTTP header name (RFC 9110 token); looked up lower-cased, as node delivers headers.
const headerName = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/, { error: "must be an HTTP header name" })
  .transform((h) => h.toLowerCase());

/** The router's configuration schema (the operator's `TrafficConfig`). */
export const trafficConfigSchema = z.object({
  model: z.string().min(1, { error: "must name the ChurnModel" }),
  stable: z.object({ digest, url: upstreamUrl, httpTarget, grpcTarget }),
  canary: z
    .object({
      digest,
      url: upstreamUrl,
      httpTarget,
      grpcTarget,
      weight: percent,
      mirrorPercent: percent,
    })
    .nullable(),
  stickyHeader: headerName.nullable(),
});

/** A parsed traffic configuration. */
export type TrafficConfig = z.output<typeof trafficConfigSchema>;

/** A traffic configuration the router refuses; the message names every field at fault. */
export class TrafficConfigError extends Error {
  override readonly name = "TrafficConfigError";
}

/** Parses the text of `traffic.json`; throws TrafficConfigError saying what is wrong. */
export function parseTrafficConfig(text: string): TrafficConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new TrafficConfigError(`${TRAFFIC_KEY} is not JSON: ${(err as Error).message}`);
  }
  const parsed = trafficConfigSchema.safeParse(json, {
    error: (issue) => (issue.input === undefined ? "is required" : undefined),
  });
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (i) => `${i.path.length > 0 ? i.path.join(".") : "(the document)"}: ${i.message}`,
    );
    throw new TrafficConfigError(`${TRAFFIC_KEY}: ${problems.join("; ")}`);
  }
  return parsed.data;
}
