import { readFileSync } from 'node:fs';
import { Redis, type RedisOptions } from 'ioredis';
import { redisTarget } from '../config/redis-url.js';
import { CsError, reasonOf } from '../errors/registry.js';
import { CoalescingRedis } from './coalescing-redis.js';

export interface ConnectOptions {
  readonly url: string;
  /** Connect and command timeout, ms (config key redisTimeout). */
  readonly timeoutMs?: number;
  /** PEM CA file for `rediss://` (config key redisSecureTrustStorePath). */
  readonly caFile?: string | undefined;
  /**
   * `producer`: commands fail at once while disconnected (clients and the frontend answer fast).
   * `worker`: commands wait for the connection to come back (workers retry forever).
   */
  readonly role: 'producer' | 'worker';
  readonly name?: string;
  /**
   * Subscribe again to the channels of a connection that came back (ioredis's own way, whose
   * failure nobody can catch). Off for a subscriber that subscribes again itself.
   */
  readonly autoResubscribe?: boolean;
  /** Commands sent in the same event-loop turn share one socket write (see CoalescingRedis). */
  readonly coalesceWrites?: boolean;
}

/** The one place Redis connections are made, so every process reconnects and times out alike. */
export function createRedis(options: ConnectOptions): Redis {
  const timeoutMs = options.timeoutMs ?? 5000;
  const redisOptions: RedisOptions = {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    maxRetriesPerRequest: options.role === 'producer' ? 0 : null,
    enableOfflineQueue: options.role === 'worker',
    enableReadyCheck: true,
    ...(options.autoResubscribe === false ? { autoResubscribe: false } : {}),
    ...(options.name === undefined ? {} : { connectionName: options.name }),
  };
  if (options.role === 'producer') redisOptions.commandTimeout = timeoutMs;
  if (options.url.startsWith('rediss://')) {
    redisOptions.tls = options.caFile === undefined ? {} : { ca: readFileSync(options.caFile) };
  }
  const target = redisTarget(options.url);
  const Connection = options.coalesceWrites === true ? CoalescingRedis : Redis;
  if (target.kind === 'sentinel') {
    return new Connection({
      ...redisOptions,
      sentinels: target.sentinels.map((s) => ({ host: s.host, port: s.port })),
      name: target.masterName,
      ...(target.password === undefined ? {} : { password: target.password }),
      sentinelCommandTimeout: timeoutMs,
      // Sentinels announce a promoted master on +switch-master; without this a connection
      // learns of the failover only when its socket to the dead master breaks.
      failoverDetector: true,
      // A demoted master that comes back as a replica answers writes with READONLY:
      // reconnect, which asks the Sentinels for the master again.
      reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
    });
  }
  return new Connection(options.url, redisOptions);
}

/** Connects, failing with CS_ERR_REDIS_UNAVAILABLE (naming the url, without its password) when nothing answers. */
export async function connectRedis(redis: Redis, url: string): Promise<void> {
  if (redis.status === 'ready') return;
  try {
    if (redis.status === 'wait') await redis.connect();
    else await waitReady(redis);
  } catch (error) {
    throw new CsError(
      'CS_ERR_REDIS_UNAVAILABLE',
      `cannot reach Redis at ${redactUrl(url)}: ${reasonOf(error)}; check that it runs and that redisUrl is right`,
      { cause: error },
    );
  }
}

/** One wait per connection, however many callers wait for it (64 first queries at once, say). */
const readyWaits = new WeakMap<Redis, Promise<void>>();

function waitReady(redis: Redis): Promise<void> {
  const waiting = readyWaits.get(redis);
  if (waiting !== undefined) return waiting;
  const wait = listenReady(redis).finally(() => readyWaits.delete(redis));
  readyWaits.set(redis, wait);
  return wait;
}

function listenReady(redis: Redis): Promise<void> {
  return new Promise((resolve, reject) => {
    const onReady = (): void => {
      redis.off('error', onError);
      resolve();
    };
    const onError = (error: Error): void => {
      redis.off('ready', onReady);
      reject(error);
    };
    redis.once('ready', onReady);
    redis.once('error', onError);
  });
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}

/** True for the errors a command gets when Redis is down or the connection is not usable. */
export function isConnectionError(error: unknown): boolean {
  const message = reasonOf(error);
  return /Connection is closed|Stream isn't writeable|ECONNREFUSED|ECONNRESET|ETIMEDOUT|Command timed out|MaxRetriesPerRequest|EPIPE/i.test(
    message,
  );
}
