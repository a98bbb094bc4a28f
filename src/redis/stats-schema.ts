/**
 * The shared statistics of a job in Redis: one schema that every writer (workers in their
 * batch answer script, frontends in a pipeline once a second, the supervisor's queue
 * sampler) and every reader (`list`, `/metrics`, Triton's statistics routes, the dashboard)
 * imports, on every host.
 *
 * Totals, hash `cs:<job>:stats` (never expires), integers added with HINCRBY by workers:
 *   processed, batches, batch:<rows>, errors:<code>, worker:<consumer>   (older readers)
 *   success_count/_ns, fail_count/_ns, queue_count/_ns, input_count/_ns,
 *   infer_count/_ns, output_count/_ns, batch_ns:<rows>                    (Triton's form)
 *   last_inference                                                        (HSET, epoch ms)
 * Durations are per request, as Triton counts them: each record of a batch adds the whole
 * batch's compute time, so ns / count is the average a request saw.
 *
 * Slots, hash `cs:<job>:slot:<floor(epoch ms / 10000)>`, expiring after SLOT_TTL_SECONDS:
 *   w.ok, w.fail   records answered by workers, w.h<i> their enqueue-to-result latency
 *   f.req, f.err   prediction requests answered by frontends (status >= 400 is an error),
 *                  f.h<i> their HTTP latency
 *   queue          the consumer group's lag, last sampled in that slot
 * where <i> indexes LATENCY_BUCKETS_MS. Only non-zero fields are written.
 */
import type { Redis } from 'ioredis';
import { keys } from './keys.js';

export const SLOT_MS = 10_000;
/** Slots cover the dashboard's 30 minutes, with a margin for clocks that differ across hosts. */
export const SLOT_TTL_SECONDS = 35 * 60;
/** Slots the dashboard draws: 30 minutes. */
export const WINDOW_SLOTS = 180;

/** Upper bounds (ms, inclusive) of the latency buckets; the last one catches everything slower. */
export const LATENCY_BUCKETS_MS: readonly number[] = [
  0.5,
  1,
  2,
  3,
  5,
  7,
  10,
  15,
  20,
  30,
  50,
  70,
  100,
  150,
  200,
  300,
  500,
  700,
  1000,
  1500,
  2000,
  3000,
  5000,
  10_000,
  30_000,
  Number.POSITIVE_INFINITY,
];

export type SlotSource = 'w' | 'f';

/** Field names of the totals hash, as workers write them. */
export const TOTAL_FIELDS = {
  processed: 'processed',
  batches: 'batches',
  lastInference: 'last_inference',
  batchSize: (rows: number): string => `batch:${rows}`,
  batchNs: (rows: number): string => `batch_ns:${rows}`,
  error: (code: string): string => `errors:${code}`,
  worker: (consumer: string): string => `worker:${consumer}`,
  count: (stat: DurationStatName): string => `${STAT_FIELD[stat]}_count`,
  ns: (stat: DurationStatName): string => `${STAT_FIELD[stat]}_ns`,
} as const;

export const DURATION_STATS = [
  'success',
  'fail',
  'queue',
  'compute_input',
  'compute_infer',
  'compute_output',
] as const;
export type DurationStatName = (typeof DURATION_STATS)[number];

const STAT_FIELD: Record<DurationStatName, string> = {
  success: 'success',
  fail: 'fail',
  queue: 'queue',
  compute_input: 'input',
  compute_infer: 'infer',
  compute_output: 'output',
};

export const SLOT_FIELDS = {
  workerOk: 'w.ok',
  workerFail: 'w.fail',
  frontendRequests: 'f.req',
  frontendErrors: 'f.err',
  queue: 'queue',
  latency: (source: SlotSource, bucket: number): string => `${source}.h${bucket}`,
} as const;

export interface DurationStat {
  readonly count: number;
  readonly ns: number;
}

/** A job's totals in the words of Triton's model_stats. */
export interface JobTotals {
  readonly lastInference: number;
  readonly inferenceCount: number;
  readonly executionCount: number;
  readonly stats: Readonly<Record<DurationStatName, DurationStat>>;
  /** rows → executions and their summed compute time */
  readonly batches: ReadonlyMap<number, DurationStat>;
}

/** One 10-second slot, summed over every worker and frontend. */
export interface Slot {
  /** Epoch ms at which the slot starts. */
  readonly start: number;
  readonly workerOk: number;
  readonly workerFail: number;
  readonly frontendRequests: number;
  readonly frontendErrors: number;
  /** Queue depth sampled in this slot; undefined when nobody sampled it. */
  readonly queue: number | undefined;
  /** Counts per LATENCY_BUCKETS_MS bucket. */
  readonly workerLatency: readonly number[];
  readonly frontendLatency: readonly number[];
}

export function slotIndex(epochMs: number): number {
  return Math.floor(epochMs / SLOT_MS);
}

export function slotKey(job: string, epochMs: number): string {
  return keys.statsSlot(job, slotIndex(epochMs));
}

/** Index of the bucket that holds a latency of `ms`. */
export function latencyBucket(ms: number): number {
  for (let i = 0; i < LATENCY_BUCKETS_MS.length; i++) {
    if (ms <= (LATENCY_BUCKETS_MS[i] as number)) return i;
  }
  return LATENCY_BUCKETS_MS.length - 1;
}

/** Adds `by` to `name` in a counter map (what writers fill before one write). */
export function addTo(counters: Map<string, number>, name: string, by = 1): void {
  if (by !== 0) counters.set(name, (counters.get(name) ?? 0) + by);
}

/** Milliseconds as integer nanoseconds, the unit of every duration in the schema. */
export function msToNs(ms: number): number {
  return Math.max(0, Math.round(ms * 1e6));
}

function numberOf(hash: Readonly<Record<string, string>>, field: string): number {
  const n = Number(hash[field] ?? 0);
  return Number.isFinite(n) ? n : 0;
}

export function decodeTotals(hash: Readonly<Record<string, string>>): JobTotals {
  const stats = {} as Record<DurationStatName, DurationStat>;
  for (const stat of DURATION_STATS) {
    stats[stat] = {
      count: numberOf(hash, TOTAL_FIELDS.count(stat)),
      ns: numberOf(hash, TOTAL_FIELDS.ns(stat)),
    };
  }
  const batches = new Map<number, DurationStat>();
  for (const field of Object.keys(hash)) {
    const match = /^batch:(\d+)$/.exec(field);
    if (match === null) continue;
    const rows = Number(match[1]);
    batches.set(rows, { count: numberOf(hash, field), ns: numberOf(hash, TOTAL_FIELDS.batchNs(rows)) });
  }
  return {
    lastInference: numberOf(hash, TOTAL_FIELDS.lastInference),
    inferenceCount: stats.success.count,
    executionCount: numberOf(hash, TOTAL_FIELDS.batches),
    stats,
    batches: new Map([...batches].sort((a, b) => a[0] - b[0])),
  };
}

export function decodeSlot(start: number, hash: Readonly<Record<string, string>>): Slot {
  const histogram = (source: SlotSource): number[] =>
    LATENCY_BUCKETS_MS.map((_, i) => numberOf(hash, SLOT_FIELDS.latency(source, i)));
  const queue = hash[SLOT_FIELDS.queue];
  return {
    start,
    workerOk: numberOf(hash, SLOT_FIELDS.workerOk),
    workerFail: numberOf(hash, SLOT_FIELDS.workerFail),
    frontendRequests: numberOf(hash, SLOT_FIELDS.frontendRequests),
    frontendErrors: numberOf(hash, SLOT_FIELDS.frontendErrors),
    queue: queue === undefined ? undefined : numberOf(hash, SLOT_FIELDS.queue),
    workerLatency: histogram('w'),
    frontendLatency: histogram('f'),
  };
}

/**
 * The q-quantile (0..1) of a bucket histogram in ms, interpolated linearly inside the bucket
 * that holds it; undefined for an empty histogram. The open last bucket answers its lower bound.
 */
export function percentile(histogram: readonly number[], q: number): number | undefined {
  const total = histogram.reduce((sum, n) => sum + n, 0);
  if (total === 0) return undefined;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    const n = histogram[i] ?? 0;
    if (n === 0 || seen + n < rank) {
      seen += n;
      continue;
    }
    const lower = i === 0 ? 0 : (LATENCY_BUCKETS_MS[i - 1] as number);
    const upper = LATENCY_BUCKETS_MS[i] as number;
    if (!Number.isFinite(upper)) return lower;
    return lower + ((upper - lower) * (rank - seen)) / n;
  }
  return LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 2];
}

export async function readTotals(redis: Redis, job: string): Promise<JobTotals> {
  return decodeTotals(await redis.hgetall(keys.stats(job)));
}

/** The last `count` slots up to the one holding `now`, oldest first (missing ones are zeros). */
export async function readSlots(
  redis: Redis,
  job: string,
  now: number,
  count = WINDOW_SLOTS,
): Promise<Slot[]> {
  const last = slotIndex(now);
  const pipeline = redis.pipeline();
  for (let index = last - count + 1; index <= last; index++) pipeline.hgetall(keys.statsSlot(job, index));
  const replies = (await pipeline.exec()) ?? [];
  return replies.map(([error, hash], i) => {
    if (error !== null) throw error;
    return decodeSlot((last - count + 1 + i) * SLOT_MS, (hash ?? {}) as Record<string, string>);
  });
}

/** Adds slot counters (frontends: once a second, in one round trip with the expiry). */
export async function addToSlot(
  redis: Redis,
  job: string,
  epochMs: number,
  counters: ReadonlyMap<string, number>,
): Promise<void> {
  if (counters.size === 0) return;
  const key = slotKey(job, epochMs);
  const pipeline = redis.pipeline();
  for (const [field, by] of counters) pipeline.hincrby(key, field, by);
  pipeline.expire(key, SLOT_TTL_SECONDS);
  const replies = (await pipeline.exec()) ?? [];
  for (const [error] of replies) if (error !== null) throw error;
}

/** Records the queue depth seen now in the current slot. */
export async function sampleQueue(redis: Redis, job: string, epochMs: number, depth: number): Promise<void> {
  const key = slotKey(job, epochMs);
  await redis.multi().hset(key, SLOT_FIELDS.queue, depth).expire(key, SLOT_TTL_SECONDS).exec();
}
