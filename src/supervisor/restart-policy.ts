export interface RestartPolicyOptions {
  /** Delay before the first restart, ms. */
  readonly baseMs: number;
  /** Cap on the delay, ms. */
  readonly maxMs: number;
  /** Each delay is multiplied by a random factor in [1 - jitter, 1 + jitter]. */
  readonly jitter: number;
  /** This many crashes within `windowMs` means the process cannot run: give up. */
  readonly maxCrashes: number;
  readonly windowMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicyOptions = {
  baseMs: 500,
  maxMs: 30_000,
  jitter: 0.2,
  maxCrashes: 5,
  windowMs: 60_000,
};

export type RestartDecision =
  { readonly action: 'restart'; readonly delayMs: number } | { readonly action: 'give-up' };

/**
 * Exponential backoff with jitter and a cap, and a crash budget per sliding window. The
 * delay grows with the crashes still inside the window, so a process that ran well for a
 * while is restarted quickly again.
 */
export class RestartPolicy {
  private crashes: number[] = [];

  constructor(
    private readonly options: RestartPolicyOptions = DEFAULT_RESTART_POLICY,
    private readonly random: () => number = Math.random,
  ) {}

  onCrash(now: number = Date.now()): RestartDecision {
    this.crashes = this.crashes.filter((at) => now - at < this.options.windowMs);
    this.crashes.push(now);
    if (this.crashes.length >= this.options.maxCrashes) return { action: 'give-up' };
    const exponent = this.crashes.length - 1;
    const raw = Math.min(this.options.maxMs, this.options.baseMs * 2 ** exponent);
    const factor = 1 + this.options.jitter * (2 * this.random() - 1);
    return { action: 'restart', delayMs: Math.round(Math.min(this.options.maxMs, raw * factor)) };
  }

  get recentCrashes(): number {
    return this.crashes.length;
  }
}
