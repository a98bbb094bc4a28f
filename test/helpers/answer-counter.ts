import { Redis } from 'ioredis';
import { answeredUris } from '../../src/contracts/request-pack.js';
import { keys } from '../../src/redis/keys.js';

/**
 * Listens to every reply channel of our clients and counts the answers published per uri (each request of a pack reply too),
 * so a test sees an entry answered twice even though its client keeps only the first.
 */
export class AnswerCounter {
  private readonly counts = new Map<string, number>();
  private readonly redis: Redis;

  private constructor(redis: Redis) {
    this.redis = redis;
    redis.on('pmessageBuffer', (_pattern: Buffer, _channel: Buffer, message: Buffer) => {
      for (const uri of answeredUris(message)) this.counts.set(uri, (this.counts.get(uri) ?? 0) + 1);
    });
  }

  static async start(redisUrl: string): Promise<AnswerCounter> {
    const redis = new Redis(redisUrl, { lazyConnect: true });
    redis.on('error', () => undefined);
    await redis.connect();
    await redis.psubscribe(keys.replyChannel('*'));
    return new AnswerCounter(redis);
  }

  /** Uris answered more than once, with their count. */
  doubled(): [string, number][] {
    return [...this.counts].filter(([, count]) => count > 1);
  }

  get answered(): number {
    return this.counts.size;
  }

  stop(): void {
    this.redis.disconnect();
  }
}
