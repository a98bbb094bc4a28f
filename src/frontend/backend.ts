import type { Prediction } from '../client/prediction.js';
import type { JobFigures } from '../metrics/frontend-metrics.js';
import type { ModelMetadata } from '../protocol/model-metadata.js';
import type { NamedTensor } from '../protocol/tensor.js';
import type { JobTotals } from '../redis/stats-schema.js';

/** What a worker answered for one entry: the client Producer's union. */
export type { Prediction };

/** What the frontend knows about its job; refreshed at most about once per heartbeat interval. */
export interface JobStatus {
  /** Workers with a recent heartbeat. */
  readonly liveWorkers: number;
  /** Published by a worker after warm-up; undefined when no worker ever loaded the model. */
  readonly model: ModelMetadata | undefined;
}

/** A job known in the frontend's Redis; ready when a warmed worker of it is alive. */
export interface RepositoryEntry {
  readonly name: string;
  readonly ready: boolean;
}

/**
 * Everything the HTTP layer needs from the serving core. The Producer-based implementation
 * talks to Redis; tests use an in-memory one so routing, validation and every error code can
 * be checked with inject() and no socket.
 */
/** The frontend's link to Redis, as its health routes show it. */
export interface RedisLinkState {
  /** `up`: connected; `down`: not connected (the frontend answers 503 and keeps trying). */
  readonly state: 'up' | 'down';
  /** Times this frontend's connection to Redis was lost since it started (a Redis restart counts). */
  readonly lost: number;
}

export interface PredictionBackend {
  /** How the link to Redis is; backends without one (tests) leave it out. */
  redisLink?(): RedisLinkState;
  /** Resolves with the worker's answer; rejects with a CsError (queue full, Redis down, timeout). */
  submit(inputs: readonly NamedTensor[], options: { timeoutMs: number }): Promise<Prediction>;
  /**
   * Sends one BigDL JSON request (`{"instances":[{...}]}`, stream serde) so the worker applies
   * BigDL's own rules (images, `|`-joined strings); the answer is BigDL's float32 result.
   */
  submitBigdlJson(body: string, options: { timeoutMs: number }): Promise<Prediction>;
  /** Rejects with CS_ERR_REDIS_UNAVAILABLE when Redis cannot be read. */
  status(): Promise<JobStatus>;
  /** Every job known in Redis (Triton's repository index). Rejects when Redis cannot be read. */
  repository(): Promise<RepositoryEntry[]>;
  /** The job's shared counters, for /metrics. Rejects when Redis cannot be read. */
  figures(): Promise<JobFigures>;
  /** The job's statistics totals (Triton's statistics). Rejects when Redis cannot be read. */
  totals(): Promise<JobTotals>;
  /** Redis round trips that carried entries so far. */
  readonly flushes: number;
}
