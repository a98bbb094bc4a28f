import type { Redis } from 'ioredis';
import { keys } from './keys.js';

/**
 * The id of the newest entry ever added to a job's stream (XINFO STREAM last-generated-id),
 * `0-0` when the stream does not exist. `stop` drains up to this id: what was queued when
 * the user asked to stop gets answered, what arrives later stays for the next start.
 */
export async function lastGeneratedId(redis: Redis, job: string): Promise<string> {
  let info: unknown;
  try {
    info = await redis.xinfo('STREAM', keys.stream(job));
  } catch (error) {
    if (error instanceof Error && /no such key/i.test(error.message)) return '0-0';
    throw error;
  }
  if (!Array.isArray(info)) return '0-0';
  for (let i = 0; i + 1 < info.length; i += 2) {
    if (info[i] === 'last-generated-id' && typeof info[i + 1] === 'string') return info[i + 1] as string;
  }
  return '0-0';
}
