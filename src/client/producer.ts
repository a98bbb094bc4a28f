import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { CsError, reasonOf, type ErrorCode } from '../errors/registry.js';
import type { Logger } from '../logging/logger.js';
import { silentLogger } from '../logging/logger.js';
import { keys } from '../redis/keys.js';
import { connectRedis, createRedis } from '../redis/connection.js';
import { QUEUED_LUA } from '../redis/queue-count.js';
import { decodeBigdlResult } from '../protocol/bigdl-result.js';
import { decodeErrorPayload, decodeReply } from '../contracts/reply.js';
import { PACK_MAX_BYTES, PACK_MAX_REQUESTS, SERDE, STREAM_FIELDS } from '../contracts/stream-entry.js';
import { decodePackReply, encodePackedRequest, packable } from '../contracts/request-pack.js';
import { decodeTensorFrame, encodeTensorFrame } from '../protocol/tensor-frame.js';
import type { ModelMetadata } from '../protocol/model-metadata.js';
import { RECORD_BOUND_DEFAULTS, recordOverBounds, type RecordBounds } from '../protocol/record-bounds.js';
import type { NamedTensor, Tensor } from '../protocol/tensor.js';
import type { Prediction } from './prediction.js';
import { writeFailure } from './redis-failure.js';

export type { Prediction } from './prediction.js';

export interface ProducerOptions {
  readonly redisUrl: string;
  readonly job: string;
  /** Most requests written in one round trip. */
  readonly countWindow?: number;
  /** 0: entries submitted before the next event-loop turn go together; > 0: wait up to this many ms to fill a window. */
  readonly timeWindow?: number;
  /** Refuse new entries once the stream holds this many (0 = no bound). */
  readonly maxQueueLength?: number;
  /** Most rows in one record's own batch dimension; by default the job's, as its workers publish it. */
  readonly maxRecordBatch?: number;
  /** Most bytes of one record's tensors; by default the job's, as its workers publish it. */
  readonly maxRecordBytes?: number;
  readonly redisTimeoutMs?: number;
  /**
   * Confirm an entry only once this many replicas hold it (Redis WAIT, bounded by the Redis
   * timeout); fewer is CS_ERR_REDIS_REPLICAS for entries not answered yet. 0: do not wait.
   */
  readonly minReplicas?: number;
  readonly caFile?: string | undefined;
  readonly logger?: Logger;
}

export interface SubmitOptions {
  readonly timeoutMs: number;
  readonly uri?: string;
}

/** An entry ready to go: the fields after `uri` in XADD, with the stream form chosen by the caller. */
export interface RawEntry {
  readonly serde: string | undefined;
  readonly data: Buffer | string;
}

/**
 * Where a request stands, which decides what a failure means to its caller:
 * - queued: not written yet; failing it is "not accepted" (CS_ERR_REDIS_UNAVAILABLE, safe to retry);
 * - sending: its XADD left for Redis, no reply yet: the write's outcome decides;
 * - accepted: Redis added the entry; from here a broken wait is CS_ERR_OUTCOME_UNKNOWN, because
 *   a worker may run it (or may have run it) whatever the client sees.
 */
type WaitingPhase = 'queued' | 'sending' | 'accepted';

interface Waiting {
  readonly uri: string;
  readonly resolve: (prediction: Prediction) => void;
  readonly reject: (error: Error) => void;
  timer: NodeJS.Timeout | undefined;
  phase: WaitingPhase;
}

interface Outgoing {
  readonly waiting: Waiting;
  /** The request as its part of a pack (src/contracts/request-pack.ts). */
  readonly packed: Buffer;
}

/* KEYS: stream, packed extra. ARGV: max, then the entry's fields. Nil when the queue is full. */
const BOUNDED_XADD = `${QUEUED_LUA}local max = tonumber(ARGV[1])
if max > 0 and queued() >= max then return false end
return redis.call('XADD', KEYS[1], '*', unpack(ARGV, 2))
`;

/*
 * Adds one pack entry holding as many of the requests as the bound lets in, in their order.
 * KEYS: stream, packed extra. ARGV: max, pack uri, reply channel, then each request's part.
 * Returns how many requests it took (0: the queue is full).
 */
const BOUNDED_PACK_XADD = `${QUEUED_LUA}local max = tonumber(ARGV[1])
local take = #ARGV - 3
if max > 0 then take = math.min(take, max - queued()) end
if take <= 0 then return 0 end
redis.call('XADD', KEYS[1], '*', '${STREAM_FIELDS.uri}', ARGV[2], '${STREAM_FIELDS.serde}', '${SERDE.pack}',
  '${STREAM_FIELDS.reply}', ARGV[3], '${STREAM_FIELDS.count}', take, '${STREAM_FIELDS.data}', table.concat(ARGV, '', 4, 3 + take))
if take > 1 then redis.call('INCRBY', KEYS[2], take - 1) end
return take
`;

type ProducerState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

/**
 * Writes requests into a job's stream in our binary form, with a reply channel, and resolves
 * each one when its worker publishes the result: no polling. Entries submitted together go
 * in one round trip (countWindow / timeWindow).
 */
export class Producer {
  readonly redis: Redis;
  private readonly subscriber: Redis;
  private readonly clientId = randomBytes(8).toString('hex');
  private readonly channel: string;
  private readonly waiting = new Map<string, Waiting>();
  private outgoing: Outgoing[] = [];
  private flushScheduled = false;
  private windowTimer: NodeJS.Timeout | undefined;
  private sequence = 0;
  private flushCount = 0;
  /** True once SUBSCRIBE on the reply channel is confirmed, false from the moment the subscriber closes. */
  private listening = false;
  /** Counts subscriber losses, so a write that was in flight across one knows its reply may be gone. */
  private subscriptionEpoch = 0;
  private stateValue: ProducerState = 'new';
  private readonly countWindow: number;
  private readonly timeWindow: number;
  private maxQueueLength: number;
  private readonly boundGiven: boolean;
  private recordBounds: RecordBounds;
  /** Requests per pack: the job's maxBatchSize once its workers publish it, so a pack is one worker batch. */
  private packRequests = PACK_MAX_REQUESTS;
  private readonly logger: Logger;
  private readonly minReplicas: number;
  private readonly waitTimeoutMs: number;

  constructor(private readonly options: ProducerOptions) {
    this.minReplicas = Math.max(0, options.minReplicas ?? 0);
    // WAIT ends a little before the command timeout, so its count, not a timeout, is what comes back.
    const timeoutMs = options.redisTimeoutMs ?? 5000;
    this.waitTimeoutMs = Math.max(1, timeoutMs - Math.max(200, Math.floor(timeoutMs * 0.2)));
    this.countWindow = Math.max(1, options.countWindow ?? 56);
    this.timeWindow = Math.max(0, options.timeWindow ?? 0);
    this.maxQueueLength = Math.max(0, options.maxQueueLength ?? 0);
    this.boundGiven = options.maxQueueLength !== undefined;
    this.recordBounds = {
      maxRecordBatch: options.maxRecordBatch ?? RECORD_BOUND_DEFAULTS.maxRecordBatch,
      maxRecordBytes: options.maxRecordBytes ?? RECORD_BOUND_DEFAULTS.maxRecordBytes,
    };
    this.logger = options.logger ?? silentLogger();
    const connect = {
      url: options.redisUrl,
      role: 'producer' as const,
      caFile: options.caFile,
      ...(options.redisTimeoutMs === undefined ? {} : { timeoutMs: options.redisTimeoutMs }),
    };
    this.redis = createRedis({ ...connect, name: 'cs-producer', coalesceWrites: true });
    // It subscribes again itself when it comes back (see 'ready' below): ioredis's own resubscribe
    // is a promise nobody holds, so a connection closed meanwhile (by stop(), say) would end the
    // embedding process with an unhandled rejection.
    this.subscriber = createRedis({ ...connect, name: 'cs-producer-replies', autoResubscribe: false });
    this.channel = keys.replyChannel(this.clientId);
    this.redis.defineCommand('csBoundedXadd', { numberOfKeys: 2, lua: BOUNDED_XADD });
    this.redis.defineCommand('csBoundedPackXadd', { numberOfKeys: 2, lua: BOUNDED_PACK_XADD });
    this.redis.on('error', (error) => this.logger.debug({ err: error }, 'redis connection error'));
    this.subscriber.on('error', (error) => this.logger.debug({ err: error }, 'redis subscriber error'));
    this.subscriber.on('messageBuffer', (_channel: Buffer, message: Buffer) => this.onReply(message));
    // Replies published while the subscriber was away are lost: fail the waiting requests now rather than at their deadline.
    this.subscriber.on('close', () => this.onSubscriptionLost());
    this.subscriber.on('ready', () => {
      if (this.stateValue !== 'running') return;
      const epoch = this.subscriptionEpoch;
      this.subscriber
        .subscribe(this.channel)
        .then(() => {
          if (epoch === this.subscriptionEpoch) this.listening = true;
        })
        .catch((error: unknown) => this.logger.debug({ err: error }, 'cannot subscribe again to replies'));
    });
  }

  get state(): ProducerState {
    return this.stateValue;
  }

  /** Round trips that carried new entries so far. */
  get flushes(): number {
    return this.flushCount;
  }

  get inFlight(): number {
    return this.waiting.size;
  }

  /**
   * Follows the bounds the job's workers publish (config maxQueueLength, maxRecordBatch,
   * maxRecordBytes) unless they were given.
   */
  adoptJobBound(model: ModelMetadata | undefined): void {
    if (model === undefined) return;
    const { options } = this;
    const batch = model.maxBatchSize;
    if (Number.isSafeInteger(batch) && batch > 0) this.packRequests = Math.min(PACK_MAX_REQUESTS, batch);
    this.recordBounds = {
      maxRecordBatch: options.maxRecordBatch ?? model.maxRecordBatch ?? this.recordBounds.maxRecordBatch,
      maxRecordBytes: options.maxRecordBytes ?? model.maxRecordBytes ?? this.recordBounds.maxRecordBytes,
    };
    if (this.boundGiven || model.maxQueueLength === undefined) return;
    this.maxQueueLength = Math.max(0, model.maxQueueLength);
  }

  /**
   * Refuses a record over maxRecordBatch or maxRecordBytes before it reaches Redis.
   * `carriesBatch`: the tensors' first dim is the record's batch dimension (our tensor form).
   */
  checkRecord(inputs: readonly Tensor[], carriesBatch: boolean): void {
    const problem = recordOverBounds(inputs, carriesBatch, this.recordBounds);
    if (problem !== undefined) throw new CsError('CS_ERR_RECORD_TOO_LARGE', problem);
  }

  /** The queue bound in force (0: none known yet). */
  get queueBound(): number {
    return this.maxQueueLength;
  }

  async start(): Promise<void> {
    if (this.stateValue !== 'new') return;
    this.stateValue = 'starting';
    try {
      await connectRedis(this.redis, this.options.redisUrl);
      await connectRedis(this.subscriber, this.options.redisUrl);
      await this.subscriber.subscribe(this.channel);
    } catch (error) {
      // Back to 'new' so a later start() tries again on the same (reconnecting) connections.
      if (this.stateValue === 'starting') this.stateValue = 'new';
      throw error;
    }
    this.listening = true;
    this.stateValue = 'running';
  }

  /** Sends one request in our binary tensor form and waits for its result. */
  submit(inputs: readonly NamedTensor[], options: SubmitOptions): Promise<Prediction> {
    try {
      this.checkRecord(inputs, true);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return this.submitRaw({ serde: SERDE.tensor, data: encodeTensorFrame(inputs) }, options);
  }

  /**
   * Sends one request whose payload is already encoded (BigDL Arrow, BigDL JSON or ours).
   * Requests submitted together travel in one pack entry and are answered in one reply
   * message, on the reply channel only (no result hash: nobody else waits for them).
   */
  submitRaw(entry: RawEntry, options: SubmitOptions): Promise<Prediction> {
    if (this.stateValue !== 'running') {
      return Promise.reject(
        new CsError('CS_ERR_REDIS_UNAVAILABLE', `producer is ${this.stateValue}, not running`),
      );
    }
    if (this.redis.status !== 'ready' || !this.listening) {
      return Promise.reject(
        new CsError(
          'CS_ERR_REDIS_UNAVAILABLE',
          `Redis is not reachable (connection ${this.redis.status}, replies ${this.subscriber.status}); the request was not sent (safe to retry)`,
        ),
      );
    }
    const uri = options.uri ?? `${this.clientId}-${(this.sequence++).toString(36)}`;
    if (this.waiting.has(uri)) {
      return Promise.reject(
        new CsError('CS_ERR_INPUT_DECODE', `uri "${uri}" is already waiting for a result`),
      );
    }
    const { serde } = entry;
    if (!packable(serde)) {
      return Promise.reject(
        new CsError(
          'CS_ERR_INPUT_UNSUPPORTED',
          `serde "${serde}" cannot be sent; expected none (BigDL Arrow), "${SERDE.bigdlJson}" or "${SERDE.tensor}"`,
        ),
      );
    }
    let packed: Buffer;
    try {
      packed = encodePackedRequest(uri, serde, Date.now() + options.timeoutMs, entry.data);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return new Promise<Prediction>((resolve, reject) => {
      const waiting: Waiting = { uri, resolve, reject, timer: undefined, phase: 'queued' };
      waiting.timer = setTimeout(() => this.onDeadline(waiting), options.timeoutMs);
      this.waiting.set(uri, waiting);
      this.outgoing.push({ waiting, packed });
      this.scheduleFlush();
    });
  }

  /**
   * Writes one entry without a reply channel (BigDL style: the result is only written to its
   * hash), under the same queue bound. Returns the stream id.
   */
  async enqueueRaw(uri: string, entry: RawEntry): Promise<string> {
    if (this.redis.status !== 'ready') {
      throw writeFailure(new Error(`connection ${this.redis.status}`), false);
    }
    let id: unknown;
    try {
      id = await (this.redis as unknown as BoundedXadd).csBoundedXadd(
        keys.stream(this.options.job),
        keys.packedExtra(this.options.job),
        String(this.maxQueueLength),
        ...entryFields(uri, entry),
      );
    } catch (error) {
      throw writeFailure(error, true);
    }
    if (id === null) throw this.queueFull();
    if (this.minReplicas > 0) {
      let reply: [Error | null, unknown];
      try {
        reply = [null, await this.redis.call('WAIT', String(this.minReplicas), String(this.waitTimeoutMs))];
      } catch (error) {
        reply = [error instanceof Error ? error : new Error(String(error)), null];
      }
      const shortfall = replicaShortfall(reply, this.minReplicas);
      if (shortfall !== undefined)
        throw new CsError('CS_ERR_REDIS_REPLICAS', `entry ${String(id)}: ${shortfall}`);
    }
    return String(id);
  }

  private scheduleFlush(): void {
    if (this.outgoing.length >= this.countWindow) {
      this.flushNow();
      return;
    }
    if (this.timeWindow === 0) {
      if (this.flushScheduled) return;
      this.flushScheduled = true;
      setImmediate(() => this.flushNow());
      return;
    }
    if (this.windowTimer === undefined) this.windowTimer = setTimeout(() => this.flushNow(), this.timeWindow);
  }

  private flushNow(): void {
    this.flushScheduled = false;
    if (this.windowTimer !== undefined) {
      clearTimeout(this.windowTimer);
      this.windowTimer = undefined;
    }
    while (this.outgoing.length > 0) {
      const batch = this.outgoing.splice(0, this.countWindow);
      this.flushCount++;
      void this.write(batch);
    }
  }

  private async write(queued: Outgoing[]): Promise<void> {
    // Requests failed while they waited in the window (subscriber lost, stop) must not be sent:
    // their callers were told "not accepted".
    const batch = queued.filter((item) => this.waiting.get(item.waiting.uri) === item.waiting);
    if (batch.length === 0) return;
    if (this.redis.status !== 'ready') {
      const notSent = writeFailure(new Error(`connection ${this.redis.status}`), false);
      for (const item of batch) this.settleError(item.waiting, notSent.code, notSent.message);
      return;
    }
    const epoch = this.subscriptionEpoch;
    for (const item of batch) item.waiting.phase = 'sending';
    const pipeline = this.redis.pipeline();
    const stream = keys.stream(this.options.job);
    const extra = keys.packedExtra(this.options.job);
    const max = String(this.maxQueueLength);
    const packs = intoPacks(batch, this.packRequests);
    for (const pack of packs) {
      const uri = `${this.clientId}-p${(this.sequence++).toString(36)}`;
      (pipeline as unknown as BoundedXaddPipeline).csBoundedPackXadd(
        stream,
        extra,
        max,
        uri,
        this.channel,
        ...pack.map((item) => item.packed),
      );
    }
    const replicas = this.minReplicas;
    // WAIT right after the XADDs on the same connection covers exactly these writes.
    if (replicas > 0) pipeline.call('WAIT', String(replicas), String(this.waitTimeoutMs));
    let results: [Error | null, unknown][] | null;
    try {
      results = await pipeline.exec();
    } catch (error) {
      results = null;
      this.logger.warn({ err: error }, 'writing entries failed');
    }
    const shortfall = replicas > 0 ? replicaShortfall(results?.[packs.length], replicas) : undefined;
    packs.forEach((pack, i) => {
      const result = results?.[i];
      let failure: CsError | undefined;
      if (result === undefined) {
        // No per-command result: the pipeline as a whole failed after it was handed to the socket.
        failure = writeFailure(new Error('the write to Redis failed'), true);
      } else if (result[0] !== null) {
        failure = writeFailure(result[0], true);
      }
      const taken = failure === undefined ? Number(result?.[1] ?? 0) : 0;
      pack.forEach((item, j) => {
        if (failure !== undefined) {
          this.settleError(item.waiting, failure.code, failure.message);
        } else if (j >= taken) {
          const full = this.queueFull();
          this.settleError(item.waiting, full.code, full.message);
        } else {
          item.waiting.phase = 'accepted';
          if (shortfall !== undefined) {
            this.settleError(item.waiting, 'CS_ERR_REDIS_REPLICAS', shortfall);
          } else if (epoch !== this.subscriptionEpoch || !this.listening) {
            // The subscriber went away while this write was out: a reply may already be lost.
            this.settleError(item.waiting, 'CS_ERR_OUTCOME_UNKNOWN', outcomeUnknownMessage(item.waiting.uri));
          }
        }
      });
    });
  }

  private queueFull(): CsError {
    return new CsError(
      'CS_ERR_QUEUE_FULL',
      `the queue of job "${this.options.job}" is full (${this.maxQueueLength} requests); retry later or raise maxQueueLength`,
    );
  }

  private onReply(message: Buffer): void {
    let decoded: ReturnType<typeof decodeReply>;
    let inner: Buffer[] | undefined;
    try {
      decoded = decodeReply(message);
      if (decoded.kind === 'pack') inner = decodePackReply(decoded.payload);
    } catch (error) {
      this.logger.warn({ err: error }, 'ignored a reply that could not be decoded');
      return;
    }
    if (inner === undefined) {
      this.onAnswer(decoded);
      return;
    }
    for (const answer of inner) {
      try {
        decoded = decodeReply(answer);
      } catch (error) {
        this.logger.warn({ err: error }, 'ignored an answer in a pack reply that could not be decoded');
        continue;
      }
      this.onAnswer(decoded);
    }
  }

  private onAnswer(decoded: ReturnType<typeof decodeReply>): void {
    const waiting = this.waiting.get(decoded.uri);
    if (waiting === undefined) return;
    let prediction: Prediction;
    try {
      switch (decoded.kind) {
        case 'tensors':
          prediction = { kind: 'tensors', outputs: decodeTensorFrame(decoded.payload) };
          break;
        case 'text':
          prediction = { kind: 'text', text: decoded.payload.toString() };
          break;
        case 'error':
          prediction = { kind: 'error', ...decodeErrorPayload(decoded.payload) };
          break;
        case 'pack':
          throw new CsError('CS_ERR_INPUT_DECODE', 'a pack reply inside a pack reply');
        case 'bigdl':
          prediction = {
            kind: 'tensors',
            outputs: decodeBigdlResult(decoded.payload.toString()).map((t, i) => ({
              ...t,
              name: `output${i}`,
            })),
          };
          break;
      }
    } catch (error) {
      prediction = {
        kind: 'error',
        code: 'CS_ERR_INPUT_DECODE',
        message: `result could not be decoded: ${reasonOf(error)}`,
      };
    }
    this.settle(waiting, prediction);
  }

  /** Answers travel on the reply channel only; a lost subscription fails them at once (onSubscriptionLost). */
  private onDeadline(waiting: Waiting): void {
    waiting.timer = undefined;
    this.settleError(
      waiting,
      'CS_ERR_TIMEOUT',
      `no result for request "${waiting.uri}" within the timeout; it was accepted and may still run (workers skip it once past its deadline)`,
    );
  }

  private settle(waiting: Waiting, prediction: Prediction): void {
    if (!this.remove(waiting)) return;
    waiting.resolve(prediction);
  }

  private settleError(waiting: Waiting, code: ErrorCode, message: string): void {
    if (!this.remove(waiting)) return;
    waiting.reject(new CsError(code, message));
  }

  private remove(waiting: Waiting): boolean {
    if (this.waiting.get(waiting.uri) !== waiting) return false;
    this.waiting.delete(waiting.uri);
    if (waiting.timer !== undefined) clearTimeout(waiting.timer);
    return true;
  }

  /**
   * Replies published while the subscriber was away are lost, so waiting requests fail now
   * rather than at their deadline: the accepted ones as "outcome unknown", the others as not
   * accepted. Requests whose write is still out are decided when it returns (see write()).
   */
  private onSubscriptionLost(): void {
    this.listening = false;
    this.subscriptionEpoch++;
    this.failWaiting('lost the connection to Redis');
  }

  private failWaiting(reason: string): void {
    for (const waiting of [...this.waiting.values()]) {
      if (waiting.phase === 'accepted') {
        this.settleError(
          waiting,
          'CS_ERR_OUTCOME_UNKNOWN',
          `${reason}: ${outcomeUnknownMessage(waiting.uri)}`,
        );
      } else if (waiting.phase === 'queued') {
        this.settleError(
          waiting,
          'CS_ERR_REDIS_UNAVAILABLE',
          `${reason}; the request was not sent (safe to retry)`,
        );
      }
    }
  }

  /** Fails what is still waiting and closes both connections; safe to call twice. */
  async stop(): Promise<void> {
    if (this.stateValue === 'stopped' || this.stateValue === 'stopping') return;
    this.stateValue = 'stopping';
    if (this.windowTimer !== undefined) clearTimeout(this.windowTimer);
    this.outgoing = [];
    // What is still being written is told by its write, which the quit below lets finish.
    this.failWaiting('the client was closed before the result came');
    for (const connection of [this.subscriber, this.redis]) {
      try {
        await connection.quit();
      } catch {
        connection.disconnect();
      }
    }
    this.stateValue = 'stopped';
  }
}

interface BoundedXadd {
  csBoundedXadd(stream: string, extra: string, max: string, ...fields: (string | Buffer)[]): Promise<unknown>;
}

interface BoundedXaddPipeline {
  csBoundedPackXadd(
    stream: string,
    extra: string,
    max: string,
    uri: string,
    channel: string,
    ...requests: Buffer[]
  ): unknown;
}

/** The batch in packs of at most `maxRequests` requests and PACK_MAX_BYTES bytes (a larger request goes alone). */
function intoPacks(batch: readonly Outgoing[], maxRequests: number): Outgoing[][] {
  const packs: Outgoing[][] = [];
  let pack: Outgoing[] = [];
  let bytes = 0;
  for (const item of batch) {
    if (pack.length > 0 && (pack.length >= maxRequests || bytes + item.packed.length > PACK_MAX_BYTES)) {
      packs.push(pack);
      pack = [];
      bytes = 0;
    }
    pack.push(item);
    bytes += item.packed.length;
  }
  if (pack.length > 0) packs.push(pack);
  return packs;
}

function outcomeUnknownMessage(uri: string): string {
  return `request "${uri}" was accepted but its result cannot be received; it may still run, so retry only if running it twice is harmless`;
}

/** The fields every entry starts with: `uri`, `serde` when not BigDL's Arrow, `data`. */
function entryFields(uri: string, entry: RawEntry): (string | Buffer)[] {
  const fields: (string | Buffer)[] = [STREAM_FIELDS.uri, uri];
  if (entry.serde !== undefined) fields.push(STREAM_FIELDS.serde, entry.serde);
  fields.push(STREAM_FIELDS.data, entry.data);
  return fields;
}

/** Why a WAIT reply does not confirm `wanted` replicas, or undefined when it does. */
function replicaShortfall(reply: [Error | null, unknown] | undefined, wanted: number): string | undefined {
  if (reply === undefined)
    return `no answer to WAIT for ${wanted} replica(s); the entry was written, its outcome is unknown`;
  if (reply[0] !== null)
    return `WAIT for ${wanted} replica(s) failed (${reasonOf(reply[0])}); the entry was written, its outcome is unknown`;
  const held = Number(reply[1]);
  if (held >= wanted) return undefined;
  return `only ${held} of the ${wanted} Redis replica(s) redisMinReplicas asks for confirmed the entry in time; it was written, its outcome is unknown (answered later, or lost if the master fails)`;
}
