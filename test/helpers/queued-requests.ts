import type { Redis } from 'ioredis';
import { STREAM_FIELDS } from '../../src/contracts/stream-entry.js';

/** Requests held in a job's stream: one per entry, a pack's count for a pack entry. */
export async function queuedRequests(redis: Redis, stream: string): Promise<number> {
  const entries = await redis.xrange(stream, '-', '+');
  let total = 0;
  for (const [, fields] of entries) {
    const at = fields.indexOf(STREAM_FIELDS.count);
    total += at >= 0 && at % 2 === 0 ? Number(fields[at + 1]) : 1;
  }
  return total;
}
