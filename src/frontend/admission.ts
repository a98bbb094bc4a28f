/**
 * Token bucket of BigDL's `tokenBucketEnabled` / `tokensPerSecond` / `tokenAcquireTimeout`.
 * It holds at most `tokensPerSecond` tokens (one second of burst) and starts full. A request
 * that finds no token reserves the next one when it comes within `acquireTimeoutMs` and waits
 * for it; otherwise it is refused at once (waiting longer could not help). Because a reserved
 * token is only used at its own time, the requests let through by time T never exceed
 * capacity + rate × (T − start).
 */
export class TokenBucket {
  private readonly rate: number;
  private readonly capacity: number;
  private readonly acquireTimeoutMs: number;
  private readonly now: () => number;
  /** May go negative: tokens promised to waiting requests. */
  private tokens: number;
  private updatedAt: number;

  constructor(options: { tokensPerSecond: number; acquireTimeoutMs: number; now?: () => number }) {
    this.rate = options.tokensPerSecond / 1000;
    this.capacity = Math.max(1, options.tokensPerSecond);
    this.acquireTimeoutMs = Math.max(0, options.acquireTimeoutMs);
    this.now = options.now ?? Date.now;
    this.tokens = this.capacity;
    this.updatedAt = this.now();
  }

  /**
   * 0: a token is available now; a positive number: the ms to wait for the reserved token;
   * undefined: refused (none within the acquire timeout). The caller must wait before going on.
   */
  reserve(): number | undefined {
    const now = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.updatedAt) * this.rate);
    this.updatedAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    const waitMs = this.rate > 0 ? (1 - this.tokens) / this.rate : Number.POSITIVE_INFINITY;
    if (waitMs > this.acquireTimeoutMs) return undefined;
    this.tokens -= 1;
    return Math.ceil(waitMs);
  }
}

/** The `parallelism` bound: at most `limit` predictions in flight; the next one is refused at once. */
export class InFlightLimit {
  private readonly limit: number;
  private count = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  get inFlight(): number {
    return this.count;
  }

  /** A release function (safe to call more than once), or undefined when the limit is reached. */
  tryAcquire(): (() => void) | undefined {
    if (this.count >= this.limit) return undefined;
    this.count += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.count -= 1;
    };
  }
}
