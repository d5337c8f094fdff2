/** Where progress goes: a terminal gets one updating line, anything else plain lines. */
export interface ProgressOutput {
  isTTY?: boolean;
  write(text: string): unknown;
}

/** Options of {@link BuildProgress}; the defaults suit a real build. */
export interface BuildProgressOptions {
  out?: ProgressOutput;
  /** `CI=true` asks for plain lines even on a terminal. */
  env?: NodeJS.ProcessEnv;
  now?: () => number;
  /** Plain lines: one at least this often while a step runs (default 30 s). */
  intervalMs?: number;
}

/** "45s", "6m05s", "1h02m". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/** One step's state, as {@link progressLine} shows it. */
export interface StepState {
  label: string;
  index: number;
  steps: number;
  name: string;
  /** What is counted ("packages", "modules"). */
  unit: string;
  done: number;
  /** Known once the step has worked it out (`go list`); undefined shows a bare count. */
  total?: number;
  elapsedMs: number;
  finished: boolean;
}

/** "Kubernetes v1.37.2 step 3/3 compile: 1234/2691 packages (45%), 6m05s". */
export function progressLine(s: StepState): string {
  const head = `${s.label} step ${s.index}/${s.steps} ${s.name}`;
  let count = "";
  if (s.total === 0) {
    count = `all ${s.unit} cached, `;
  } else if (s.total !== undefined) {
    const pct = Math.floor((100 * Math.min(s.done, s.total)) / s.total);
    count = `${Math.min(s.done, s.total)}/${s.total} ${s.unit} (${pct}%), `;
  } else if (s.done > 0) {
    count = `${s.done} ${s.unit}, `;
  }
  if (!s.finished && !count && s.elapsedMs < 1000) return `${head}: started`;
  const time = formatDuration(s.elapsedMs);
  return s.finished ? `${head}: done, ${count}${time}` : `${head}: ${count}${time}`;
}

/**
 * Progress of a multi-step build people can trust: which step, how far (counted items of a
 * known total when there is one) and for how long. On a terminal one line updates in place
 * (each finished step keeps its final line); in CI or a log, plain lines at each step's start
 * and end and every `intervalMs` in between.
 */
export class BuildProgress {
  private readonly out: ProgressOutput;
  private readonly now: () => number;
  private readonly tty: boolean;
  private readonly intervalMs: number;
  private state: StepState | undefined;
  private stepStarted = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastDrawn = 0;

  constructor(
    private readonly prefix: string,
    private readonly label: string,
    private readonly steps: number,
    opts: BuildProgressOptions = {},
  ) {
    this.out = opts.out ?? process.stderr;
    this.now = opts.now ?? Date.now;
    const env = opts.env ?? process.env;
    this.tty = this.out.isTTY === true && env.CI !== "true";
    this.intervalMs = opts.intervalMs ?? 30_000;
  }

  /** Ends the current step and starts the next one, counting `unit`. */
  step(name: string, unit = "items"): void {
    this.endStep();
    const index = (this.state?.index ?? 0) + 1;
    this.stepStarted = this.now();
    this.state = {
      label: this.label,
      index,
      steps: this.steps,
      name,
      unit,
      done: 0,
      elapsedMs: 0,
      finished: false,
    };
    this.draw(true);
    // A terminal line refreshes each second so the clock moves during silent phases; plain
    // lines come at the interval.
    this.timer = setInterval(() => this.draw(true), this.tty ? 1000 : this.intervalMs);
    this.timer.unref();
  }

  /** How many items the current step will count in all. */
  setTotal(total: number): void {
    if (!this.state) return;
    this.state.total = total;
    this.draw(true);
  }

  /** Counts `n` more items done in the current step. */
  advance(n = 1): void {
    if (!this.state) return;
    this.state.done += n;
    this.draw(false);
  }

  /** Ends the last step; leaves the terminal on a fresh line. */
  end(): void {
    this.endStep();
    this.state = undefined;
  }

  private endStep(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (!this.state || this.state.finished) return;
    this.state.finished = true;
    this.draw(true);
    if (this.tty) this.out.write("\n");
  }

  private draw(force: boolean): void {
    const s = this.state;
    if (!s) return;
    const now = this.now();
    s.elapsedMs = now - this.stepStarted;
    if (this.tty) {
      // Redraw at most ten times a second: `go build -v` reports packages in bursts.
      if (!force && now - this.lastDrawn < 100) return;
      this.lastDrawn = now;
      this.out.write(`\r\x1b[2K[${this.prefix}] ${progressLine(s)}`);
      return;
    }
    // Plain lines only on the forced occasions (start, total known, interval, end).
    if (force) this.out.write(`[${this.prefix}] ${progressLine(s)}\n`);
  }
}
