import { z } from 'zod';

/**
 * A job's life, as the supervisor and `list` report it:
 * - `starting`: Redis checked, processes launched, not every worker has warmed up yet;
 * - `running`: every process of the job is ready;
 * - `degraded`: it serves, but a process is restarting (a slot that keeps crashing backs off,
 *   up to a minute between tries, while the others serve);
 * - `stopping`: `stop` sent the drain message, or `cancel` is terminating the processes;
 * - `stopped`: drained and exited after `stop`;
 * - `cancelled`: processes ended by `cancel` or `shutdown`; unprocessed entries stay queued;
 * - `failed`: could not start, or cannot serve at all (no worker ready for 5 minutes, or every
 *   try fails the same way before ready); `lastError` says why.
 */
export const JOB_STATES = [
  'starting',
  'running',
  'degraded',
  'stopping',
  'stopped',
  'cancelled',
  'failed',
] as const;
export type JobState = (typeof JOB_STATES)[number];

export function isActive(state: JobState): boolean {
  return state === 'starting' || state === 'running' || state === 'degraded' || state === 'stopping';
}

/**
 * One child process slot: worker n of the job, or its frontend. `pid` and `startTime`
 * (the kernel's start time of that pid) let a later `shutdown` recognise the process even
 * after the supervisor died, without trusting a pid that may have been reused.
 */
export const processRecordSchema = z.object({
  role: z.enum(['worker', 'frontend']),
  slot: z.number().int(),
  pid: z.number().int().nullable(),
  startTime: z.string().nullable(),
  state: z.enum(['launching', 'loading', 'warming', 'ready', 'backoff', 'exited']),
  restarts: z.number().int(),
  consumer: z.string().nullable(),
  logFile: z.string(),
});
export type ProcessRecord = z.infer<typeof processRecordSchema>;

export const jobRecordSchema = z.object({
  id: z.string(),
  name: z.string(),
  state: z.enum(JOB_STATES),
  configPath: z.string(),
  modelPath: z.string(),
  redisUrl: z.string(),
  httpUrl: z.string().nullable(),
  /** The address the frontend is bound to (`http://0.0.0.0:10020`); httpUrl is how to reach it from here. */
  httpBound: z.string().nullable().default(null),
  modelParallelism: z.number().int(),
  processes: z.array(processRecordSchema),
  restarts: z.number().int(),
  lastError: z.string().nullable(),
  startedAt: z.number(),
  endedAt: z.number().nullable(),
});
export type JobRecord = z.infer<typeof jobRecordSchema>;

/** A redis-server this home started (and will stop). */
export const redisRecordSchema = z.object({
  port: z.number().int(),
  url: z.string(),
  pid: z.number().int().nullable(),
  startTime: z.string().nullable(),
  logFile: z.string(),
  state: z.enum(['running', 'restarting']).default('running'),
  restarts: z.number().int().default(0),
});
export type RedisRecord = z.infer<typeof redisRecordSchema>;

/** `<home>/state.json`. */
export const stateFileSchema = z.object({
  supervisorPid: z.number().int(),
  supervisorStartTime: z.string().nullable(),
  jobs: z.array(jobRecordSchema),
  redis: z.array(redisRecordSchema),
});
export type StateFile = z.infer<typeof stateFileSchema>;

/** A job as `list` shows it: the supervisor's record plus the shared figures from Redis. */
export const listedJobSchema = z.object({
  id: z.string(),
  name: z.string(),
  state: z.enum(JOB_STATES),
  workers: z.object({
    ready: z.number().int(),
    total: z.number().int(),
    localReady: z.number().int(),
    localTotal: z.number().int(),
    remote: z.number().int(),
    /** Live workers per host name (heartbeats in Redis, so every host lists the same). */
    hosts: z.array(z.object({ host: z.string(), workers: z.number().int() })),
  }),
  restarts: z.number().int(),
  model: z.string(),
  redis: z.string(),
  redisManaged: z.boolean(),
  /**
   * `up`: the supervisor reaches it; `restarting`: a managed Redis that died and is being
   * started again; `down`: not reachable (restarting by itself, or gone).
   */
  redisState: z.enum(['up', 'restarting', 'down']),
  /** Times the supervisor restarted a managed Redis; null for one it does not manage. */
  redisRestarts: z.number().int().nullable(),
  http: z.string().nullable(),
  /** What the frontend is bound to; differs from `http` for a wildcard address such as 0.0.0.0. */
  httpBound: z.string().nullable(),
  processed: z.number().nullable(),
  queued: z.number().nullable(),
  inFlight: z.number().nullable(),
  /** Requests counted against maxQueueLength (a pack entry counts each of its requests). */
  queuedRequests: z.number().nullable().default(null),
  startedAt: z.string(),
  uptimeSeconds: z.number().nullable(),
  lastError: z.string().nullable(),
  configPath: z.string(),
});
export type ListedJob = z.infer<typeof listedJobSchema>;
