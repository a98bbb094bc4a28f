import { resultPrefix } from '../contracts/job-names.js';

/**
 * The ONLY place Redis key and channel names are built (job names: src/contracts/job-names.ts).
 */
export const CONSUMER_GROUP = 'serving';

export const keys = {
  /** The input stream of a job (BigDL: the stream is named after the job). */
  stream: (job: string): string => job,
  /** Hash with field `value` (and `error` on failure) for one request. */
  result: (job: string, uri: string): string => `${resultPrefix(job)}${uri}`,
  /** JSON string: the model's inputs and outputs, written by each worker after warm-up. */
  model: (job: string): string => `cs:${job}:model`,
  /** Sorted set: consumer name → last heartbeat (epoch ms). */
  workers: (job: string): string => `cs:${job}:workers`,
  /** Hash: consumer name → JSON description of the worker (host, pid, started). */
  workerInfo: (job: string): string => `cs:${job}:worker-info`,
  /**
   * Integer: requests queued beyond one per stream entry (packs hold several), so that
   * maxQueueLength counts requests: XLEN plus this. Producers add to it, workers take their
   * part off when they answer a pack, and it is reset whenever the stream is found empty.
   */
  packedExtra: (job: string): string => `cs:${job}:packed-extra`,
  /** Hash of counters that workers add to per batch. */
  stats: (job: string): string => `cs:${job}:stats`,
  /** Hash of one 10-second slot of the job's statistics (src/redis/stats-schema.ts). */
  statsSlot: (job: string, slot: number): string => `cs:${job}:slot:${slot}`,
  /** Set of every job name that has published metadata (for `list` across hosts). */
  jobs: (): string => 'cs:jobs',
  /** Channel every supervisor listens on for `stop|cancel --all-hosts` (JSON messages). */
  hostControl: (): string => 'cs:host-control',
  /** Channel prefix for reply channels chosen by our clients. */
  replyChannel: (clientId: string): string => `cs:reply:${clientId}`,
} as const;
