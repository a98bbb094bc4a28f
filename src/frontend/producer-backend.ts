import type { Redis } from 'ioredis';
import { CsError, isCsError, reasonOf } from '../errors/registry.js';
import { SERDE } from '../contracts/stream-entry.js';
import type { JobFigures } from '../metrics/frontend-metrics.js';
import type { NamedTensor } from '../protocol/tensor.js';
import type { ModelMetadata } from '../protocol/model-metadata.js';
import {
  HEARTBEAT_INTERVAL_MS,
  knownJobs,
  liveWorkers,
  readModelMetadata,
  readQueueState,
  readStats,
} from '../redis/job-state.js';
import { readTotals, type JobTotals } from '../redis/stats-schema.js';
import type { JobStatus, Prediction, PredictionBackend, RedisLinkState, RepositoryEntry } from './backend.js';
import { keys } from '../redis/keys.js';

/** The part of the client Producer the frontend uses. */
export interface ProducerLike {
  submit(inputs: readonly NamedTensor[], options: { timeoutMs: number }): Promise<Prediction>;
  submitRaw(
    entry: { serde: string | undefined; data: Buffer | string },
    options: { timeoutMs: number },
  ): Promise<Prediction>;
  readonly flushes: number;
  readonly redis: Redis;
  adoptJobBound?(model: ModelMetadata | undefined): void;
}

export interface ProducerBackendOptions {
  readonly job: string;
  /** How long a status read stays fresh; the heartbeat interval by default. */
  readonly cacheMs?: number;
  /** Upper bound on one status read, so a hung Redis never holds requests. */
  readonly readTimeoutMs?: number;
  readonly now?: () => number;
}

interface CachedStatus {
  readonly at: number;
  readonly value: JobStatus;
}

/**
 * A PredictionBackend over the Producer. Worker liveness and model metadata are cached for
 * about one heartbeat interval, so a request costs no extra Redis round trip; a stale value is
 * served while one refresh runs in the background (workers are only declared gone after three
 * missed heartbeats anyway).
 */
export class ProducerBackend implements PredictionBackend {
  private readonly source: () => ProducerLike | undefined;
  /** Connections whose losses are counted (the Producer may be replaced). */
  private readonly watched = new WeakSet<Redis>();
  private lostCount = 0;
  private readonly job: string;
  private readonly cacheMs: number;
  private readonly readTimeoutMs: number;
  private readonly now: () => number;
  private cached: CachedStatus | undefined;
  private pending: Promise<JobStatus> | undefined;

  /** `source` may be a function when the Producer is replaced after Redis was unreachable at start. */
  constructor(source: ProducerLike | (() => ProducerLike | undefined), options: ProducerBackendOptions) {
    this.source = typeof source === 'function' ? source : () => source;
    this.job = options.job;
    this.cacheMs = options.cacheMs ?? HEARTBEAT_INTERVAL_MS;
    this.readTimeoutMs = options.readTimeoutMs ?? 1000;
    this.now = options.now ?? Date.now;
  }

  get flushes(): number {
    return this.source()?.flushes ?? 0;
  }

  submit(inputs: readonly NamedTensor[], options: { timeoutMs: number }): Promise<Prediction> {
    try {
      return this.connected().submit(inputs, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  submitBigdlJson(body: string, options: { timeoutMs: number }): Promise<Prediction> {
    try {
      return this.connected().submitRaw({ serde: SERDE.bigdlJson, data: body }, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async status(): Promise<JobStatus> {
    const redis = this.connected().redis;
    const now = this.now();
    const cached = this.cached;
    if (cached !== undefined && now - cached.at < this.cacheMs) return cached.value;
    if (cached !== undefined && now - cached.at < this.cacheMs * 3) {
      this.refresh(redis).catch(() => undefined);
      return cached.value;
    }
    return this.refresh(redis);
  }

  async repository(): Promise<RepositoryEntry[]> {
    const redis = this.connected().redis;
    return this.bounded(
      knownJobs(redis).then((jobs) =>
        Promise.all(
          jobs.map(async (name) => {
            const [workers, published] = await Promise.all([
              liveWorkers(redis, name),
              redis.exists(keys.model(name)),
            ]);
            return { name, ready: workers.length > 0 && published === 1 };
          }),
        ),
      ),
    );
  }

  async figures(): Promise<JobFigures> {
    const redis = this.connected().redis;
    const [stats, queue, workers] = await this.bounded(
      Promise.all([
        readStats(redis, this.job),
        readQueueState(redis, this.job),
        liveWorkers(redis, this.job),
      ]),
    );
    return { ...stats, ...queue, liveWorkers: workers.length };
  }

  async totals(): Promise<JobTotals> {
    return this.bounded(readTotals(this.connected().redis, this.job));
  }

  private refresh(redis: Redis): Promise<JobStatus> {
    if (this.pending !== undefined) return this.pending;
    const started = this.now();
    const read = this.bounded(
      Promise.all([liveWorkers(redis, this.job), readModelMetadata(redis, this.job)]),
    ).then(([workers, model]) => {
      // The job's queue bound comes with its metadata, so a standalone frontend enforces it too.
      this.source()?.adoptJobBound?.(model);
      const value: JobStatus = { liveWorkers: workers.length, model };
      this.cached = { at: started, value };
      return value;
    });
    this.pending = read.finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  redisLink(): RedisLinkState {
    const redis = this.watch();
    return { state: redis?.status === 'ready' ? 'up' : 'down', lost: this.lostCount };
  }

  /** The current connection, its losses counted from the first time it is seen. */
  private watch(): Redis | undefined {
    const redis = this.source()?.redis;
    if (redis !== undefined && !this.watched.has(redis)) {
      this.watched.add(redis);
      // A loss is a ready connection closing; failed reconnect attempts close too and do not count.
      let up = redis.status === 'ready';
      redis.on('ready', () => (up = true));
      redis.on('close', () => {
        if (up) this.lostCount += 1;
        up = false;
      });
    }
    return redis;
  }

  /** The Producer when its connection is up; Redis down is a fast 503, not a wait. */
  private connected(): ProducerLike {
    this.watch();
    const producer = this.source();
    if (producer === undefined) {
      throw new CsError(
        'CS_ERR_REDIS_UNAVAILABLE',
        'Redis is not reachable (not connected yet); retry shortly',
      );
    }
    const state = producer.redis.status;
    if (state !== 'ready') {
      throw new CsError(
        'CS_ERR_REDIS_UNAVAILABLE',
        `Redis is not reachable (connection ${state}); retry shortly`,
      );
    }
    return producer;
  }

  private bounded<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new CsError('CS_ERR_REDIS_UNAVAILABLE', `Redis did not answer within ${this.readTimeoutMs} ms`),
          ),
        this.readTimeoutMs,
      );
    });
    return Promise.race([work, timeout])
      .catch((error: unknown) => {
        if (isCsError(error)) throw error;
        throw new CsError(
          'CS_ERR_REDIS_UNAVAILABLE',
          `reading the job state from Redis failed: ${reasonOf(error)}`,
          {
            cause: error,
          },
        );
      })
      .finally(() => clearTimeout(timer));
  }
}
