// Where the router's traffic configuration comes from: the model's ConfigMap through the
// Kubernetes API (config-map-traffic-source.ts) or a local file (file-traffic-source.ts).

/** What a source reports; the router decides what to do with it (traffic-state.ts). */
export interface TrafficListener {
  /** The current text of `traffic.json`, each time it may have changed. */
  text(text: string, origin: string): void;
  /** The source holds no configuration at the moment (deleted, key missing). */
  missing(reason: string): void;
}

/** A watched source of `traffic.json`. */
export interface TrafficSource {
  /** Where it reads from, for logs. */
  readonly description: string;
  /** Reads the current configuration, then keeps reporting changes until stopped. */
  start(listener: TrafficListener): void;
  /** Stops watching; resolves once nothing more will be reported. */
  stop(): Promise<void>;
}
