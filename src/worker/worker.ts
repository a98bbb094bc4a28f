import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { Redis } from 'ioredis';
import type { ServingConfig } from '../config/types.js';
import { reasonOf } from '../errors/registry.js';
import type { Logger } from '../logging/logger.js';
import { describePlacement, pinProcess, placeThisProcess } from '../placement/affinity.js';
import { connectRedis, createRedis } from '../redis/connection.js';
import { CONSUMER_GROUP, keys } from '../redis/keys.js';
import { BatchProcessor } from './batch-processor.js';
import { Heartbeat } from './heartbeat.js';
import { ModelRunner } from './model-runner.js';
import { ModelSession, warmUp, zeroInputs, type Model } from './model-session.js';
import type { LoadOptions } from '../contracts/inference-thread.js';
import { reclaimFromDeadConsumers, reclaimOwnStranded } from './reclaimer.js';
import { batchesOfRequests, compareIds, parseReadGroupReply, type StreamEntry } from './stream-entry.js';
import { hostName } from './host-name.js';
import { settlesWithin } from '../runtime/within.js';

/** How long SIGTERM lets a worker finish its batch before it stops anyway (README, Reliability). */
export const WORKER_STOP_TIMEOUT_MS = 10_000;
/** Each cleanup step that talks to Redis (heartbeat removal, QUIT) gets this long. */
const RELEASE_STEP_TIMEOUT_MS = 1000;

/**
 * new → loading (model) → warming → ready (reading the stream) → draining (stop after what
 * was queued at the drain) → stopping (finish the current batch) → stopped.
 * failed: the model or Redis could not be set up at start; the process should exit 1.
 */
export type WorkerState =
  'new' | 'loading' | 'warming' | 'ready' | 'draining' | 'stopping' | 'stopped' | 'failed';

export interface WorkerOptions {
  readonly config: ServingConfig;
  readonly logger: Logger;
  readonly onState?: (state: WorkerState, consumer: string) => void;
  /**
   * Keep this process on the CPUs its job's inference threads leave spare, and its inference
   * thread free (config key cpuAffinity). Set by the worker process's entry, which owns the process.
   */
  readonly placeCpus?: boolean;
}

const READ_BLOCK_MS = 500;
const DRAIN_READ_BLOCK_MS = 100;
const RECLAIM_EVERY_BEATS = 2;
/** Batches a threaded worker holds at once: one running, one read and decoded, queued behind it. */
const BATCHES_IN_HAND = 2;
/**
 * A model whose batch-1 run takes less than this runs on the main thread after all: handing a
 * batch to the inference thread and its outputs back costs more than such a run (the tiny
 * MLP: ~0.2 ms less per request at concurrency 1, and no copies), and there is no run long
 * enough for reading and decoding to overlap with.
 */
const INLINE_RUN_MS = 0.2;
const TIMED_RUNS = 5;

export class Worker {
  readonly consumer = `${hostName()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private stateValue: WorkerState = 'new';
  private model: Model | undefined;
  /**
   * Whether the model runs on its own thread. A run blocks the thread it runs on; when this
   * machine's workers leave a core free, running it on a thread lets the main thread read,
   * decode and write on that core meanwhile. When every core already runs a model, a thread
   * would only add hand-offs, so the model runs here.
   */
  private threaded: boolean;
  private commands: Redis | undefined;
  private reader: Redis | undefined;
  private heartbeat: Heartbeat | undefined;
  private loopDone: Promise<void> | undefined;
  private claimed: StreamEntry[] = [];
  private beats = 0;
  private reclaiming = false;
  private drainUntil: string | undefined;
  private drainTimer: NodeJS.Timeout | undefined;
  private batches: BatchProcessor | undefined;
  private readonly logger: Logger;
  private lostModel: string | undefined;

  constructor(private readonly options: WorkerOptions) {
    const { modelParallelism, threadPerModel } = options.config;
    this.threaded = modelParallelism * threadPerModel < availableParallelism();
    this.logger = options.logger.child({
      component: 'worker',
      job: options.config.jobName,
      worker: this.consumer,
    });
  }

  get state(): WorkerState {
    return this.stateValue;
  }

  /** Why the worker stopped on its own, when its inference thread stopped under it. */
  get failure(): string | undefined {
    return this.lostModel;
  }

  /** Loads and warms the model, joins the consumer group, and starts serving. Resolves once ready. */
  async start(): Promise<void> {
    const { config } = this.options;
    try {
      this.setState('loading');
      const placement =
        this.threaded && this.options.placeCpus === true ? placeThisProcess(config) : undefined;
      if (placement?.pinned === true) {
        this.logger.info(describePlacement(placement), 'reading and decoding kept off the inference CPUs');
      } else if (placement !== undefined) {
        this.logger.warn(describePlacement(placement), 'cpuAffinity auto: CPUs left as they were');
      }
      const plan = placement?.pinned === true ? placement.plan : undefined;
      const load = {
        cpus: plan?.inference,
        modelPath: config.modelPath,
        job: config.jobName,
        threads: config.threadPerModel,
        inputAlreadyBatched: config.inputAlreadyBatched,
        maxBatchSize: config.maxBatchSize,
        maxBatchDelayMs: config.maxBatchDelayMs,
        maxQueueLength: config.maxQueueLength,
        bounds: { maxRecordBatch: config.maxRecordBatch, maxRecordBytes: config.maxRecordBytes },
      };
      if (this.threaded) {
        const runner = await ModelRunner.start(load, (reason) => this.onModelLost(reason));
        this.model = runner;
        if (runner.placementProblem !== undefined && plan !== undefined) {
          // The inference thread could not leave the plumbing CPUs: free the whole process again.
          this.logger.warn({ reason: runner.placementProblem }, 'cpuAffinity auto: CPUs left as they were');
          pinProcess(process.pid, plan.all);
        }
      } else {
        this.model = await ModelSession.load(load);
      }
      this.setState('warming');
      const notWarmed = await warmUp(this.model);
      if (notWarmed !== undefined)
        this.logger.warn({ reason: notWarmed }, 'warm-up on zeros failed; serving without it');
      else if (this.threaded) await this.inlineIfSmall(load, plan?.all);
      const connect = {
        url: config.redisUrl,
        role: 'worker' as const,
        timeoutMs: config.redisTimeout,
        caFile: config.redisSecureTrustStorePath,
      };
      this.commands = createRedis({ ...connect, name: `cs-worker-${this.consumer}` });
      this.reader = createRedis({ ...connect, name: `cs-worker-read-${this.consumer}` });
      for (const connection of [this.commands, this.reader]) {
        connection.on('error', (error) => this.logger.debug({ err: error }, 'redis connection error'));
      }
      await connectRedis(this.commands, config.redisUrl);
      await connectRedis(this.reader, config.redisUrl);
      await this.ensureGroup();
      this.batches = new BatchProcessor(this.model, this.commands, config, this.consumer, this.logger);
      this.heartbeat = new Heartbeat({
        redisUrl: config.redisUrl,
        timeoutMs: config.redisTimeout,
        caFile: config.redisSecureTrustStorePath,
        job: config.jobName,
        consumer: this.consumer,
        model: this.model.metadata,
        logger: this.logger,
        onBeat: () => this.onBeat(),
      });
      await this.heartbeat.start();
    } catch (error) {
      this.setState('failed');
      await this.release();
      throw error;
    }
    this.setState('ready');
    this.logger.info(
      { model: config.modelPath, inputs: this.model.metadata.inputs, inferenceThread: this.threaded },
      'worker ready',
    );
    this.loopDone = this.loop();
  }

  /** Moves a model whose runs are shorter than a hand-off to the main thread (see INLINE_RUN_MS). */
  private async inlineIfSmall(load: LoadOptions, allCpus: readonly number[] | undefined): Promise<void> {
    const threaded = this.model;
    if (threaded === undefined) return;
    const inputs = zeroInputs(threaded.metadata);
    let quickest = Number.POSITIVE_INFINITY;
    for (let i = 0; i < TIMED_RUNS; i++)
      quickest = Math.min(quickest, (await threaded.run(inputs)).computeMs);
    if (quickest >= INLINE_RUN_MS) return;
    const inline = await ModelSession.load({ ...load, cpus: undefined });
    await warmUp(inline);
    this.model = inline;
    this.threaded = false;
    await threaded.release();
    // The main thread was kept off the inference CPUs; it runs the model itself now.
    if (allCpus !== undefined) pinProcess(process.pid, allCpus);
    this.logger.info(
      { runMs: Number(quickest.toFixed(3)), belowMs: INLINE_RUN_MS },
      'the model runs on the main thread: a batch-1 run is shorter than handing it to the inference thread',
    );
  }

  /** Serve entries up to `untilId`, leave later ones in the stream, then stop (or at the timeout). */
  drain(untilId: string, timeoutMs: number): Promise<void> {
    if (this.stateValue !== 'ready') return this.stop();
    this.drainUntil = untilId;
    this.setState('draining');
    this.drainTimer = setTimeout(() => void this.stop(), timeoutMs);
    return this.loopDone ?? Promise.resolve();
  }

  /**
   * Finishes the batch in hand, acknowledges it and closes everything; safe to call twice.
   * Bounded by `timeoutMs`: with Redis down the batch cannot be answered, so its entries are
   * left unacknowledged (pending, for another worker to claim) and the worker stops anyway.
   */
  async stop(timeoutMs: number = WORKER_STOP_TIMEOUT_MS): Promise<void> {
    if (this.stateValue === 'stopped' || this.stateValue === 'failed') return;
    if (this.stateValue !== 'stopping') this.setState('stopping');
    if (this.drainTimer !== undefined) clearTimeout(this.drainTimer);
    const finished = (async (): Promise<void> => {
      await this.loopDone;
      await this.batches?.flush();
    })();
    const inTime = await settlesWithin(finished, timeoutMs, (error) =>
      this.logger.error({ err: error }, 'serving loop ended with an error'),
    );
    if (!inTime) {
      this.logger.warn(
        { timeoutMs },
        'Redis did not answer in time; stopping without acknowledging the batch in hand (its entries stay pending for other workers)',
      );
    }
    await this.release();
    this.setState('stopped');
  }

  /** Without its inference thread a worker cannot serve: answer what it holds, then stop with a failure. */
  private onModelLost(reason: string): void {
    if (this.stateValue === 'stopping' || this.stateValue === 'stopped') return;
    this.logger.error({ reason }, 'the inference thread stopped; the worker stops');
    this.lostModel = reason;
    void this.stop();
  }

  private async release(): Promise<void> {
    const steps: (() => Promise<unknown>)[] = [
      async () => this.heartbeat?.stop(),
      async () => this.dropConsumerIfIdle(),
      async () => this.reader?.quit(),
      async () => this.commands?.quit(),
      async () => this.model?.release(),
    ];
    for (const step of steps) {
      // Each bounded: a Redis that is down would hold QUIT and the heartbeat's last write forever.
      const inTime = await settlesWithin(step(), RELEASE_STEP_TIMEOUT_MS, (error) =>
        this.logger.debug({ err: error }, 'cleanup step failed'),
      );
      if (!inTime) this.logger.debug({ timeoutMs: RELEASE_STEP_TIMEOUT_MS }, 'cleanup step timed out');
    }
    // After a QUIT the sockets are usually closed already; disconnecting a closed connection
    // would leave ioredis's two-second close timer holding the process open.
    for (const connection of [this.reader, this.commands]) {
      if (connection !== undefined && connection.status !== 'end') connection.disconnect();
    }
  }

  /** A consumer that holds nothing is removed; one that still holds entries stays so they can be claimed. */
  private async dropConsumerIfIdle(): Promise<void> {
    if (this.commands === undefined || this.commands.status !== 'ready') return;
    const summary = (await this.commands.xpending(
      keys.stream(this.options.config.jobName),
      CONSUMER_GROUP,
      '-',
      '+',
      1,
      this.consumer,
    )) as unknown;
    if (Array.isArray(summary) && summary.length === 0) {
      await this.commands.xgroup(
        'DELCONSUMER',
        keys.stream(this.options.config.jobName),
        CONSUMER_GROUP,
        this.consumer,
      );
    }
  }

  private setState(state: WorkerState): void {
    this.stateValue = state;
    this.options.onState?.(state, this.consumer);
  }

  private async ensureGroup(): Promise<void> {
    try {
      await this.commands?.xgroup(
        'CREATE',
        keys.stream(this.options.config.jobName),
        CONSUMER_GROUP,
        '0',
        'MKSTREAM',
      );
    } catch (error) {
      if (!reasonOf(error).includes('BUSYGROUP')) throw error;
    }
  }

  private onBeat(): void {
    this.beats++;
    if (this.beats % RECLAIM_EVERY_BEATS !== 0 || this.reclaiming || this.commands === undefined) return;
    if (this.stateValue !== 'ready') return;
    this.reclaiming = true;
    const { commands, consumer } = this;
    const job = this.options.config.jobName;
    reclaimFromDeadConsumers(commands, job, consumer)
      .then(async (entries) => {
        if (entries.length > 0) {
          this.logger.info({ count: entries.length }, 'took over entries of a worker that is gone');
          this.claimed.push(...entries);
        }
        const held = (id: string): boolean =>
          this.batches?.holds(id) === true || this.claimed.some((entry) => entry.id === id);
        const stranded = await reclaimOwnStranded(commands, job, consumer, held);
        if (stranded.length > 0) {
          this.logger.warn(
            { count: stranded.length },
            "taking back entries Redis lists as this worker's but whose answers it does not have (a failover lost them): answering them again",
          );
          this.claimed.push(...stranded);
        }
      })
      .catch((error: unknown) => this.logger.warn({ err: error }, 'reclaiming entries failed'))
      .finally(() => {
        this.reclaiming = false;
      });
  }

  private serving(): boolean {
    return this.stateValue === 'ready' || this.stateValue === 'draining';
  }

  private async loop(): Promise<void> {
    const batches = this.batches;
    if (batches === undefined) return;
    while (this.serving()) {
      // One batch runs on the inference thread while the next is read and decoded here.
      if (batches.pending >= (this.threaded ? BATCHES_IN_HAND : 1)) {
        await batches.settled();
        continue;
      }
      let entries: StreamEntry[];
      try {
        entries =
          this.claimed.length > 0
            ? this.claimed.splice(0, this.options.config.maxBatchSize)
            : await this.read();
      } catch (error) {
        await this.onReadError(error);
        continue;
      }
      if (this.stateValue === 'draining' && this.drainUntil !== undefined) {
        const until = this.drainUntil;
        const beyond = entries.some((e) => compareIds(e.id, until) > 0);
        entries = entries.filter((e) => compareIds(e.id, until) <= 0);
        for (const batch of batchesOfRequests(entries, this.options.config.maxBatchSize))
          batches.start(batch);
        // An empty read or one past the mark means nothing up to the mark is left undelivered.
        if (beyond || entries.length === 0) {
          this.setState('stopping');
          break;
        }
        continue;
      }
      for (const batch of batchesOfRequests(entries, this.options.config.maxBatchSize)) batches.start(batch);
    }
    await batches.flush();
  }

  private async read(): Promise<StreamEntry[]> {
    const { config } = this.options;
    const reader = this.reader;
    if (reader === undefined) return [];
    const block = this.stateValue === 'draining' ? DRAIN_READ_BLOCK_MS : READ_BLOCK_MS;
    const first = await this.readOnce(reader, config.maxBatchSize, block);
    if (first.length === 0 || config.maxBatchDelayMs <= 0 || first.length >= config.maxBatchSize)
      return first;
    // Fill the batch for at most maxBatchDelayMs after the first entry came.
    const until = performance.now() + config.maxBatchDelayMs;
    const entries = [...first];
    while (entries.length < config.maxBatchSize && this.serving()) {
      const left = Math.ceil(until - performance.now());
      if (left <= 0) break;
      const more = await this.readOnce(reader, config.maxBatchSize - entries.length, left);
      if (more.length === 0) break;
      entries.push(...more);
    }
    return entries;
  }

  private async readOnce(reader: Redis, count: number, blockMs: number): Promise<StreamEntry[]> {
    const raw = await reader.callBuffer('XREADGROUP', [
      'GROUP',
      CONSUMER_GROUP,
      this.consumer,
      'COUNT',
      String(count),
      'BLOCK',
      String(blockMs),
      'STREAMS',
      keys.stream(this.options.config.jobName),
      '>',
    ]);
    return parseReadGroupReply(raw);
  }

  private async onReadError(error: unknown): Promise<void> {
    const reason = reasonOf(error);
    if (reason.includes('NOGROUP')) {
      // Redis restarted empty (or someone removed the stream): start over from its beginning.
      this.logger.warn('consumer group is gone; creating it again');
      try {
        await this.ensureGroup();
        return;
      } catch (again) {
        this.logger.warn({ err: again }, 'could not create the consumer group');
      }
    } else {
      this.logger.warn({ err: error }, 'reading the stream failed');
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
