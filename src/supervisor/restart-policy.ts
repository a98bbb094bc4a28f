export interface RestartPolicyOptions {
  /** Delay before the first restart, ms. */
  readonly baseMs: number;
  /** Cap on the delay, ms. */
  readonly maxMs: number;
  /** Each delay is multiplied by a random factor in [1 - jitter, 1 + jitter]. */
  readonly jitter: number;
  /** Crashes older than this no longer lengthen the delay. */
  readonly windowMs: number;
}

/** A job's worker or frontend slot: backs off up to a minute, and never gives up by itself. */
export const DEFAULT_RESTART_POLICY: RestartPolicyOptions = {
  baseMs: 500,
  maxMs: 60_000,
  jitter: 0.2,
  windowMs: 10 * 60_000,
};

/** A managed redis-server: queued entries wait on it, so it comes back sooner (cap 10 s), forever. */
export const REDIS_RESTART_POLICY: RestartPolicyOptions = {
  baseMs: 200,
  maxMs: 10_000,
  jitter: 0.2,
  windowMs: 60_000,
};

/**
 * When a job that runs stops being worth keeping. A slot that keeps crashing only backs off
 * (the job is `degraded` meanwhile); the job fails only when it cannot serve at all.
 */
export interface JobHealthOptions {
  /** No local worker ready for this long (while running): the job fails. */
  readonly noReadyFailMs: number;
  /** This many process failures in a row, each before reaching ready and all with the same reason, and none ready: the job fails. */
  readonly sameFailureLimit: number;
}

export const DEFAULT_JOB_HEALTH: JobHealthOptions = { noReadyFailMs: 5 * 60_000, sameFailureLimit: 5 };

/**
 * Exponential backoff with jitter and a cap. The delay grows with the crashes still inside
 * the window, so a process that ran well for a while is restarted quickly again. It never
 * gives up: whether a job can still serve is decided by the job (JobHealthOptions).
 */
export class RestartPolicy {
  private crashes: number[] = [];

  constructor(
    private readonly options: RestartPolicyOptions = DEFAULT_RESTART_POLICY,
    private readonly random: () => number = Math.random,
  ) {}

  /** Records a crash; the delay before the next start, ms. */
  onCrash(now: number = Date.now()): number {
    this.crashes = this.crashes.filter((at) => now - at < this.options.windowMs);
    this.crashes.push(now);
    const exponent = Math.min(this.crashes.length - 1, 30);
    const raw = Math.min(this.options.maxMs, this.options.baseMs * 2 ** exponent);
    const factor = 1 + this.options.jitter * (2 * this.random() - 1);
    return Math.round(Math.min(this.options.maxMs, raw * factor));
  }

  get recentCrashes(): number {
    return this.crashes.length;
  }
}
