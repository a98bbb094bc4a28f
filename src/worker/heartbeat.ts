import type { Redis } from 'ioredis';
import type { Logger } from '../logging/logger.js';
import type { ModelMetadata } from '../protocol/model-metadata.js';
import { keys } from '../redis/keys.js';
import { HEARTBEAT_INTERVAL_MS } from '../redis/job-state.js';
import { hostName } from './host-name.js';

/**
 * Keeps the worker visible: model metadata, worker info and a heartbeat score every
 * HEARTBEAT_INTERVAL_MS. Everything is rewritten on each beat, so a Redis that restarted
 * empty learns about the worker again within one interval.
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt = Date.now();
  private readonly host = hostName();

  constructor(
    private readonly redis: Redis,
    private readonly job: string,
    private readonly consumer: string,
    private readonly model: ModelMetadata,
    private readonly logger: Logger,
    private readonly onBeat: () => void,
  ) {}

  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beat(), HEARTBEAT_INTERVAL_MS);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    const info = JSON.stringify({ host: this.host, pid: process.pid, startedAt: this.startedAt });
    try {
      await this.redis
        .multi()
        .set(keys.model(this.job), JSON.stringify(this.model))
        .sadd(keys.jobs(), this.job)
        .hset(keys.workerInfo(this.job), this.consumer, info)
        .zadd(keys.workers(this.job), Date.now(), this.consumer)
        .exec();
    } catch (error) {
      this.logger.warn({ err: error }, 'heartbeat failed');
    }
    this.onBeat();
  }

  /** Removes this worker from the live set; the model metadata stays for the next start. */
  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    try {
      await this.redis
        .multi()
        .zrem(keys.workers(this.job), this.consumer)
        .hdel(keys.workerInfo(this.job), this.consumer)
        .exec();
    } catch (error) {
      this.logger.warn({ err: error }, 'could not remove the heartbeat');
    }
  }
}
