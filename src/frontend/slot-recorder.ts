import type { Redis } from 'ioredis';
import type { Logger } from '../logging/logger.js';
import {
  addTo,
  addToSlot,
  latencyBucket,
  SLOT_FIELDS,
  SLOT_MS,
  SLOT_TTL_SECONDS,
  slotIndex,
} from '../redis/stats-schema.js';

export type SlotRecorderState = 'new' | 'running' | 'stopped';

export interface SlotRecorderOptions {
  readonly job: string;
  /** The connection to write with; undefined while Redis is not reachable. */
  readonly redis: () => Redis | undefined;
  readonly logger: Logger;
  readonly flushEveryMs?: number;
  readonly now?: () => number;
}

/**
 * Counts this frontend's prediction requests per 10-second slot in memory and adds them to
 * the job's shared slots (stats-schema.ts) once a second in one pipeline: a request costs
 * no Redis command of its own. Counts that cannot be written yet are kept (a few dozen
 * fields per slot) and written later, until their slot would have expired anyway.
 */
export class SlotRecorder {
  private readonly pending = new Map<number, Map<string, number>>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private stateValue: SlotRecorderState = 'new';
  private readonly now: () => number;

  constructor(private readonly options: SlotRecorderOptions) {
    this.now = options.now ?? Date.now;
  }

  get state(): SlotRecorderState {
    return this.stateValue;
  }

  /** One prediction request answered with `status` after `ms`. */
  observe(status: number, ms: number): void {
    const index = slotIndex(this.now());
    let counters = this.pending.get(index);
    if (counters === undefined) {
      counters = new Map();
      this.pending.set(index, counters);
    }
    addTo(counters, SLOT_FIELDS.frontendRequests);
    if (status >= 400) addTo(counters, SLOT_FIELDS.frontendErrors);
    addTo(counters, SLOT_FIELDS.latency('f', latencyBucket(ms)));
  }

  start(): void {
    if (this.stateValue !== 'new') return;
    this.stateValue = 'running';
    this.timer = setInterval(() => void this.flush(), this.options.flushEveryMs ?? 1000);
    this.timer.unref();
  }

  /** Writes what is pending; one flush at a time. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  /** Idempotent: a last flush, bounded by `timeoutMs`. */
  async stop(timeoutMs = 1000): Promise<void> {
    if (this.stateValue === 'stopped') return;
    this.stateValue = 'stopped';
    clearInterval(this.timer);
    let bound: NodeJS.Timeout | undefined;
    await Promise.race([
      this.flush(),
      new Promise<void>((resolve) => {
        bound = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(bound);
  }

  private async write(): Promise<void> {
    const redis = this.options.redis();
    if (this.pending.size === 0 || redis === undefined || redis.status !== 'ready') return;
    const oldest = slotIndex(this.now() - SLOT_TTL_SECONDS * 1000);
    for (const [index, counters] of [...this.pending]) {
      this.pending.delete(index);
      if (index < oldest) continue;
      try {
        await addToSlot(redis, this.options.job, index * SLOT_MS, counters);
      } catch (error) {
        this.options.logger.debug({ err: error }, 'statistics not written yet; kept for the next flush');
        const again = this.pending.get(index) ?? new Map<string, number>();
        for (const [field, by] of counters) addTo(again, field, by);
        this.pending.set(index, again);
        return;
      }
    }
  }
}
