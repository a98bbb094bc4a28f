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
    const pending = (await redis.xpending(
      stream,
      CONSUMER_GROUP,
      'IDLE',
      DEAD_AFTER_MS,
      '-',
      '+',
      CLAIM_BATCH,
      consumer.name,
    )) as unknown;
    if (!Array.isArray(pending) || pending.length === 0) continue;
    const deliveries = new Map<string, number>();
    for (const item of pending) {
      if (Array.isArray(item)) deliveries.set(String(item[0]), Number(item[3]) + 1);
    }
    const raw = await redis.callBuffer('XCLAIM', [
      stream,
      CONSUMER_GROUP,
      self,
      String(DEAD_AFTER_MS),
      ...deliveries.keys(),
    ]);
    const entries = parseEntries(raw, deliveries);
    claimed.push(...entries);
    // Entries deleted from the stream while pending come back empty: acknowledge them so they leave the PEL.
    const present = new Set(entries.map((e) => e.id));
    const gone = [...deliveries.keys()].filter((id) => !present.has(id));
    if (gone.length > 0) await redis.xack(stream, CONSUMER_GROUP, ...gone);
  }
  return claimed;
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
