import type { Redis } from 'ioredis';
import { CONSUMER_GROUP, keys } from '../redis/keys.js';
import { HEARTBEAT_INTERVAL_MS, HEARTBEAT_MISSES, liveWorkers } from '../redis/job-state.js';
import { parseEntries, type StreamEntry } from './stream-entry.js';

const DEAD_AFTER_MS = HEARTBEAT_INTERVAL_MS * HEARTBEAT_MISSES;
const CLAIM_BATCH = 100;

interface ConsumerInfo {
  readonly name: string;
  readonly pending: number;
  readonly idle: number;
}

/**
 * Takes over the pending entries of consumers whose worker is gone (no heartbeat for three
 * intervals) and removes such consumers once they hold nothing. XCLAIM with a minimum idle
 * time lets only one live worker win each entry.
 */
export async function reclaimFromDeadConsumers(
  redis: Redis,
  job: string,
  self: string,
): Promise<StreamEntry[]> {
  const stream = keys.stream(job);
  const consumers = await listConsumers(redis, stream);
  if (consumers.every((c) => c.name === self)) return [];
  const live = new Set((await liveWorkers(redis, job)).map((w) => w.consumer));
  const claimed: StreamEntry[] = [];
  for (const consumer of consumers) {
    if (consumer.name === self || live.has(consumer.name)) continue;
    if (consumer.pending === 0) {
      if (consumer.idle > DEAD_AFTER_MS)
        await redis.xgroup('DELCONSUMER', stream, CONSUMER_GROUP, consumer.name);
      continue;
    }
    claimed.push(...(await claimIdle(redis, stream, consumer.name, self)));
  }
  return claimed;
}

/**
 * This worker's own pending entries that it does not hold: after a Redis failover that
 * dropped the last writes, the promoted master can still list an entry as delivered to this
 * worker while the answer the worker wrote is gone with the old master. Nobody else claims
 * the entries of a live worker, so it takes them back itself once they have been idle for
 * as long as a dead worker's (each is a new delivery, counted against maxDeliveries).
 */
export async function reclaimOwnStranded(
  redis: Redis,
  job: string,
  self: string,
  holds: (id: string) => boolean,
): Promise<StreamEntry[]> {
  return claimIdle(redis, keys.stream(job), self, self, holds);
}

/** XCLAIMs to `self` the entries of `owner` idle past the claim bound, except those `skip` names. */
async function claimIdle(
  redis: Redis,
  stream: string,
  owner: string,
  self: string,
  skip: (id: string) => boolean = () => false,
): Promise<StreamEntry[]> {
  const pending = (await redis.xpending(
    stream,
    CONSUMER_GROUP,
    'IDLE',
    DEAD_AFTER_MS,
    '-',
    '+',
    CLAIM_BATCH,
    owner,
  )) as unknown;
  if (!Array.isArray(pending) || pending.length === 0) return [];
  const deliveries = new Map<string, number>();
  for (const item of pending) {
    if (Array.isArray(item) && !skip(String(item[0]))) deliveries.set(String(item[0]), Number(item[3]) + 1);
  }
  if (deliveries.size === 0) return [];
  const raw = await redis.callBuffer('XCLAIM', [
    stream,
    CONSUMER_GROUP,
    self,
    String(DEAD_AFTER_MS),
    ...deliveries.keys(),
  ]);
  const entries = parseEntries(raw, deliveries);
  // Entries deleted from the stream while pending come back empty: acknowledge them so they leave the PEL.
  const present = new Set(entries.map((e) => e.id));
  const gone = [...deliveries.keys()].filter((id) => !present.has(id));
  if (gone.length > 0) await redis.xack(stream, CONSUMER_GROUP, ...gone);
  return entries;
}

async function listConsumers(redis: Redis, stream: string): Promise<ConsumerInfo[]> {
  let raw: unknown;
  try {
    raw = await redis.xinfo('CONSUMERS', stream, CONSUMER_GROUP);
  } catch {
    return [];
  }
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((item: unknown) => {
    if (!Array.isArray(item)) return [];
    const fields = new Map<string, unknown>();
    for (let i = 0; i + 1 < item.length; i += 2) fields.set(String(item[i]), item[i + 1]);
    return [
      {
        name: String(fields.get('name')),
        pending: Number(fields.get('pending') ?? 0),
        idle: Number(fields.get('idle') ?? 0),
      },
    ];
  });
}
