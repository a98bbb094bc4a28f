import type { Redis } from 'ioredis';
import { CONSUMER_GROUP, keys } from './keys.js';
import { countedRequests } from './queue-count.js';
import type { ModelMetadata } from '../protocol/model-metadata.js';

/** A worker that misses this many heartbeats is gone. */
export const HEARTBEAT_INTERVAL_MS = 1000;
export const HEARTBEAT_MISSES = 3;

export interface WorkerInfo {
  readonly consumer: string;
  readonly host: string;
  readonly pid: number;
  readonly startedAt: number;
  readonly lastHeartbeat: number;
}

/** Counters that workers add to per batch; every reader (list, /metrics, dashboard) sees the same figures. */
export interface JobStats {
  readonly processed: number;
  readonly errors: Readonly<Record<string, number>>;
  /**
   * Entries a worker removed without an answer (`no_uri`: no usable uri) and answers it
   * dropped (`not_pending`: another worker had claimed the entry), by reason.
   */
  readonly dropped: Readonly<Record<string, number>>;
  readonly batches: number;
  readonly queueMsTotal: number;
  readonly computeMsTotal: number;
  /** batch size → count */
  readonly batchSizes: Readonly<Record<string, number>>;
}

export interface QueueState {
  /** Entries not yet delivered to any worker (the group's lag). */
  readonly queued: number;
  /** Entries delivered and not yet acknowledged. */
  readonly inFlight: number;
  /** Requests counted against maxQueueLength, each request of a pack (see queue-count.ts). */
  readonly queuedRequests: number;
}

export async function readModelMetadata(redis: Redis, job: string): Promise<ModelMetadata | undefined> {
  const text = await redis.get(keys.model(job));
  if (text === null) return undefined;
  return JSON.parse(text) as ModelMetadata;
}

/** Every job whose workers ever published metadata in this Redis, sorted by name. */
export async function knownJobs(redis: Redis): Promise<string[]> {
  return (await redis.smembers(keys.jobs())).sort();
}

export async function liveWorkers(redis: Redis, job: string, now = Date.now()): Promise<WorkerInfo[]> {
  const since = now - HEARTBEAT_INTERVAL_MS * HEARTBEAT_MISSES;
  const entries = await redis.zrangebyscore(keys.workers(job), since, '+inf', 'WITHSCORES');
  const consumers: { consumer: string; lastHeartbeat: number }[] = [];
  for (let i = 0; i + 1 < entries.length; i += 2) {
    consumers.push({ consumer: entries[i] as string, lastHeartbeat: Number(entries[i + 1]) });
  }
  if (consumers.length === 0) return [];
  const infos = await redis.hmget(keys.workerInfo(job), ...consumers.map((c) => c.consumer));
  return consumers.map((c, i) => {
    const info = parseInfo(infos[i] ?? null);
    return { consumer: c.consumer, lastHeartbeat: c.lastHeartbeat, ...info };
  });
}

function parseInfo(text: string | null): { host: string; pid: number; startedAt: number } {
  if (text === null) return { host: 'unknown', pid: 0, startedAt: 0 };
  try {
    const v = JSON.parse(text) as { host?: unknown; pid?: unknown; startedAt?: unknown };
    return {
      host: typeof v.host === 'string' ? v.host : 'unknown',
      pid: typeof v.pid === 'number' ? v.pid : 0,
      startedAt: typeof v.startedAt === 'number' ? v.startedAt : 0,
    };
  } catch {
    return { host: 'unknown', pid: 0, startedAt: 0 };
  }
}

export async function readStats(redis: Redis, job: string): Promise<JobStats> {
  const hash = await redis.hgetall(keys.stats(job));
  const errors: Record<string, number> = {};
  const batchSizes: Record<string, number> = {};
  const dropped: Record<string, number> = {};
  for (const [field, value] of Object.entries(hash)) {
    if (field.startsWith('errors:')) errors[field.slice('errors:'.length)] = Number(value);
    else if (field.startsWith('dropped:')) dropped[field.slice('dropped:'.length)] = Number(value);
    else if (field.startsWith('batch:')) batchSizes[field.slice('batch:'.length)] = Number(value);
  }
  return {
    processed: Number(hash['processed'] ?? 0),
    errors,
    dropped,
    batches: Number(hash['batches'] ?? 0),
    queueMsTotal: Number(hash['queue_ms'] ?? 0),
    computeMsTotal: Number(hash['compute_ms'] ?? 0),
    batchSizes,
  };
}

/**
 * Lag and pending of the job's consumer group (zeros when the stream or group does not exist
 * yet), and the requests counted against maxQueueLength.
 */
export async function readQueueState(redis: Redis, job: string): Promise<QueueState> {
  const [group, entries, extra] = await Promise.all([
    readGroup(redis, job),
    redis.xlen(keys.stream(job)),
    redis.get(keys.packedExtra(job)),
  ]);
  return { ...group, queuedRequests: countedRequests(entries, Number(extra ?? 0)) };
}

async function readGroup(redis: Redis, job: string): Promise<{ queued: number; inFlight: number }> {
  let groups: unknown;
  try {
    groups = await redis.xinfo('GROUPS', keys.stream(job));
  } catch {
    return { queued: 0, inFlight: 0 };
  }
  if (!Array.isArray(groups)) return { queued: 0, inFlight: 0 };
  for (const group of groups) {
    if (!Array.isArray(group)) continue;
    const fields = new Map<string, unknown>();
    for (let i = 0; i + 1 < group.length; i += 2) fields.set(String(group[i]), group[i + 1]);
    if (fields.get('name') !== CONSUMER_GROUP) continue;
    const lag = fields.get('lag');
    const pending = fields.get('pending');
    return {
      queued: typeof lag === 'number' ? lag : 0,
      inFlight: typeof pending === 'number' ? pending : 0,
    };
  }
  return { queued: 0, inFlight: 0 };
}
