// Analysis metric providers: where a canary analysis gets its numbers. Each provider measures
// the same things (see measurements.ts) for one window of a rollout, and judge.ts judges them
// the same way whatever measured them:
// - builtin (default, builtin-provider.ts): scrapes every serving and router pod's /metrics
//   itself, no Prometheus needed; the window is the time since its previous call for the
//   model, counted exactly from the difference of two scrapes.
// - prometheus (prometheus-provider.ts): instant increase() queries over the last interval
//   against a Prometheus that scrapes the pods with `namespace` and `pod` labels; also runs
//   the spec's custom PromQL metrics.
// Series and label rules shared by both live in analysis-metric-names.ts; prometheus-text.ts
// parses what the builtin provider scrapes.

import { BuiltinProvider, type BuiltinProviderOptions } from "./builtin-provider.js";
import type { MetricProvider } from "./measurements.js";
import { PrometheusProvider, type PrometheusProviderOptions } from "./prometheus-provider.js";

/**
 * Where a rollout's analysis reads its numbers: `spec.rollout.analysis.provider`'s shape
 * (exactly one of the two; none means builtin).
 */
export interface ProviderSpec {
  builtin?: object;
  prometheus?: { address: string };
}

/** The provider kinds, each with how it is built from its spec. */
const FACTORIES = {
  builtin: (providers: MetricProviders) => providers.builtin,
  prometheus: (providers: MetricProviders, spec: ProviderSpec) =>
    providers.prometheusAt(spec.prometheus?.address ?? ""),
} satisfies Record<MetricProvider["kind"], (p: MetricProviders, s: ProviderSpec) => unknown>;

/**
 * The operator's metric providers, one per kind and, for Prometheus, one per address. They are
 * long-lived: the builtin provider remembers each model's previous scrape, so the same instance
 * must answer every analysis of a rollout.
 */
export class MetricProviders {
  /** The one builtin provider (its state is keyed by namespace and model). */
  readonly builtin: BuiltinProvider;
  private readonly prometheus = new Map<string, PrometheusProvider>();

  constructor(
    private readonly options: {
      builtin?: BuiltinProviderOptions;
      prometheus?: PrometheusProviderOptions;
    } = {},
  ) {
    this.builtin = new BuiltinProvider(options.builtin);
  }

  /** The provider for a spec: builtin when none is given, else the kind the spec names. */
  for(spec: ProviderSpec | undefined): MetricProvider {
    const kind = providerKindOf(spec);
    return FACTORIES[kind](this, spec ?? {});
  }

  /** The provider for one Prometheus address (a trailing slash names the same one). */
  prometheusAt(address: string): PrometheusProvider {
    const key = address.replace(/\/+$/, "");
    if (!/^https?:\/\/./.test(key)) throw new Error(`not a Prometheus address: "${address}"`);
    let provider = this.prometheus.get(key);
    if (!provider) {
      provider = new PrometheusProvider(key, this.options.prometheus);
      this.prometheus.set(key, provider);
    }
    return provider;
  }

  /** Forgets a model in every provider (rollout over, model deleted, provider changed). */
  forget(namespace: string, model: string): void {
    this.builtin.forget(namespace, model);
    for (const p of this.prometheus.values()) p.forget();
  }
}

/** Which kind a spec names; both set is refused (the CRD's CEL rule refuses it first). */
export function providerKindOf(spec: ProviderSpec | undefined): MetricProvider["kind"] {
  if (spec?.prometheus && spec.builtin) {
    throw new Error("set exactly one of provider.builtin, provider.prometheus");
  }
  return spec?.prometheus ? "prometheus" : "builtin";
}
