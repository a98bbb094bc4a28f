import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Logger } from '../logging/logger.js';
import { createRedis, redactUrl } from '../redis/connection.js';
import { liveWorkers } from '../redis/job-state.js';
import { keys } from '../redis/keys.js';

/**
 * `stop|cancel <job> --all-hosts`: the supervisor that got the command publishes it on the
 * job's Redis, and every supervisor that runs the job there obeys it for its own processes.
 * Pub/sub is enough because the sender then waits for the job's heartbeats to end: a host
 * that missed the message (cut off at that moment) shows up as workers still live.
 */
export const hostCommandSchema = z.object({
  action: z.enum(['stop', 'cancel']),
  job: z.string().min(1).max(64),
  drainTimeoutMs: z.number().positive(),
  /** The sending supervisor, which ignores its own message. */
  origin: z.string(),
});
export type HostCommand = z.infer<typeof hostCommandSchema>;

export type HostCommandHandler = (command: HostCommand) => Promise<void>;

interface Watch {
  readonly subscriber: Redis;
  readonly caFile: string | undefined;
}

/** Listens on the control channel of every Redis this host's jobs use; `stop()` is idempotent. */
export class HostControl {
  readonly origin = randomBytes(6).toString('hex');
  private readonly watches = new Map<string, Watch>();

  constructor(
    private readonly logger: Logger,
    private readonly onCommand: HostCommandHandler,
  ) {}

  /** Starts listening on a Redis's control channel (once per URL; ioredis resubscribes after reconnects). */
  watch(url: string, caFile: string | undefined): void {
    if (this.watches.has(url)) return;
    const subscriber = createRedis({ url, caFile, role: 'worker', name: 'cluster-serving-host-control' });
    subscriber.on('error', () => undefined);
    subscriber.on('message', (_channel: string, text: string) => this.received(text));
    this.watches.set(url, { subscriber, caFile });
    subscriber.subscribe(keys.hostControl()).catch((error: unknown) => {
      this.logger.warn({ err: error, redis: redactUrl(url) }, 'cannot listen for --all-hosts commands');
    });
  }

  /** Sends a command to the other hosts' supervisors; resolves to how many received it. */
  async publish(redis: Redis, url: string, command: Omit<HostCommand, 'origin'>): Promise<number> {
    const receivers = await redis.publish(
      keys.hostControl(),
      JSON.stringify({ ...command, origin: this.origin } satisfies HostCommand),
    );
    // Our own subscriber counts among the receivers when this host watches that Redis.
    return Math.max(0, receivers - (this.watches.has(url) ? 1 : 0));
  }

  /** Waits until no worker of the job heartbeats any more; resolves to the hosts still running some. */
  async waitStopped(redis: Redis, job: string, timeoutMs: number, signal?: AbortSignal): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const live = await liveWorkers(redis, job).catch(() => undefined);
      if (live !== undefined && live.length === 0) return [];
      if (Date.now() > deadline || signal?.aborted === true) {
        return [...new Set((live ?? []).map((worker) => worker.host))].sort();
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  async stop(): Promise<void> {
    const watches = [...this.watches.values()];
    this.watches.clear();
    for (const watch of watches) watch.subscriber.disconnect();
  }

  private received(text: string): void {
    let command: HostCommand;
    try {
      command = hostCommandSchema.parse(JSON.parse(text));
    } catch (error) {
      this.logger.warn({ err: error }, 'ignored a malformed --all-hosts command');
      return;
    }
    if (command.origin === this.origin) return;
    this.logger.info({ job: command.job, action: command.action }, 'obeying --all-hosts from another host');
    this.onCommand(command).catch((error: unknown) =>
      this.logger.error({ err: error, job: command.job }, 'cannot obey --all-hosts'),
    );
  }
}
