import type { Redis } from 'ioredis';
import { redactUrl } from '../redis/connection.js';
import { liveWorkers, readQueueState, readStats, type WorkerInfo } from '../redis/job-state.js';
import { isActive, type JobRecord, type ListedJob } from './job-record.js';

export interface JobViewInput {
  readonly record: JobRecord;
  /** Where the shared figures are read; undefined or unreachable → the figures are null. */
  readonly redis: Redis | undefined;
  readonly redisManaged: boolean;
  /** Set for a managed Redis (src/supervisor/redis-manager.ts). */
  readonly redisStatus?: { readonly state: 'running' | 'restarting'; readonly restarts: number } | undefined;
  readonly localReady: number;
  /** Consumers of our own workers, so the others that heartbeat for this job count as remote. */
  readonly localConsumers: readonly string[];
  readonly now?: number;
}

/** A job as `list` shows it: the supervisor's record plus the figures every host sees in Redis. */
export async function describeJob(input: JobViewInput): Promise<ListedJob> {
  const { record } = input;
  const now = input.now ?? Date.now();
  const figures = input.redis === undefined ? undefined : await readFigures(input.redis, record.name, now);
  const local = new Set(input.localConsumers);
  const remote =
    figures === undefined ? 0 : figures.live.filter((worker) => !local.has(worker.consumer)).length;
  const active = isActive(record.state);
  const localTotal = active ? record.modelParallelism : 0;
  return {
    id: record.id,
    name: record.name,
    state: record.state,
    workers: {
      ready: input.localReady + remote,
      total: localTotal + remote,
      localReady: input.localReady,
      localTotal,
      remote,
      hosts: figures === undefined ? [] : countPerHost(figures.live),
    },
    restarts: record.restarts,
    model: record.modelPath,
    redis: redactUrl(record.redisUrl),
    redisManaged: input.redisManaged,
    redisState:
      input.redisStatus?.state === 'restarting' ? 'restarting' : input.redis === undefined ? 'down' : 'up',
    redisRestarts: input.redisStatus?.restarts ?? null,
    http: active ? record.httpUrl : null,
    httpBound: active ? record.httpBound : null,
    processed: figures?.processed ?? null,
    queued: figures?.queued ?? null,
    inFlight: figures?.inFlight ?? null,
    queuedRequests: figures?.queuedRequests ?? null,
    startedAt: new Date(record.startedAt).toISOString(),
    uptimeSeconds: active ? Math.max(0, Math.round((now - record.startedAt) / 1000)) : null,
    lastError: record.lastError,
    configPath: record.configPath,
  };
}

interface Figures {
  readonly live: readonly WorkerInfo[];
  readonly processed: number;
  readonly queued: number;
  readonly inFlight: number;
  readonly queuedRequests: number;
}

async function readFigures(redis: Redis, job: string, now: number): Promise<Figures | undefined> {
  try {
    const [live, stats, queue] = await Promise.all([
      liveWorkers(redis, job, now),
      readStats(redis, job),
      readQueueState(redis, job),
    ]);
    return {
      live,
      processed: stats.processed,
      queued: queue.queued,
      inFlight: queue.inFlight,
      queuedRequests: queue.queuedRequests,
    };
  } catch {
    return undefined;
  }
}

function countPerHost(live: readonly WorkerInfo[]): { host: string; workers: number }[] {
  const counts = new Map<string, number>();
  for (const worker of live) counts.set(worker.host, (counts.get(worker.host) ?? 0) + 1);
  return [...counts]
    .map(([host, workers]) => ({ host, workers }))
    .sort((a, b) => a.host.localeCompare(b.host));
}
