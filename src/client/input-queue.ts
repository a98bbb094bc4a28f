import { CsError } from '../errors/registry.js';
import type { Logger } from '../logging/logger.js';
import { encodeBigdlInput } from '../protocol/bigdl-input.js';
import { SERDE } from '../contracts/stream-entry.js';
import { encodeTensorFrame } from '../protocol/tensor-frame.js';
import type { Tensor } from '../protocol/tensor.js';
import { liveWorkers, readModelMetadata } from '../redis/job-state.js';
import { JOB_NAME_PATTERN } from '../contracts/job-names.js';
import { redisUrlOf, type RedisLocation } from './connection-options.js';
import { Producer, type RawEntry } from './producer.js';
import { readFailure } from './redis-failure.js';
import { byName, toNamedTensors, type Inputs } from './tensor-input.js';

export interface InputQueueOptions extends RedisLocation {
  /** The job (stream) name; BigDL's default is serving_stream. */
  readonly name?: string;
  /**
   * `tensor` (default): our binary form, every datatype, full shapes (batch dimension included).
   * `bigdl`: BigDL's Arrow form, float32 samples without the batch dimension (the worker adds it).
   */
  readonly serde?: 'tensor' | 'bigdl';
  /**
   * Refuse at once once the job's stream holds this many entries (0: no bound). By default
   * the job's own maxQueueLength, as its workers publish it.
   */
  readonly maxQueueLength?: number;
  /**
   * Most rows in one request's own batch dimension, and most bytes of its tensors: a larger
   * request is refused with CS_ERR_RECORD_TOO_LARGE before it reaches Redis. By default the
   * job's own maxRecordBatch and maxRecordBytes, as its workers publish them.
   */
  readonly maxRecordBatch?: number;
  readonly maxRecordBytes?: number;
  /** predict() waits for a worker to come instead of failing when none is alive. */
  readonly waitForWorker?: boolean;
  /** Default predict() timeout, ms. */
  readonly timeoutMs?: number;
  readonly redisTimeoutMs?: number;
  /** Confirm an entry only once this many Redis replicas hold it (config key redisMinReplicas). */
  readonly minReplicas?: number;
  readonly logger?: Logger;
}

export interface PredictOptions {
  readonly timeoutMs?: number;
  readonly uri?: string;
}

export type PredictResult =
  | { readonly kind: 'tensors'; readonly outputs: Record<string, Tensor> }
  | { readonly kind: 'text'; readonly text: string };

/** The worker's reason for failing a request, with its error code. */
export class PredictionError extends CsError {}

const WORKER_CHECK_MS = 1000;

/**
 * Sends inputs to a job. `predict` waits for the answer on a reply channel (no polling);
 * `enqueue` writes BigDL-style and leaves the result for an OutputQueue.
 */
export class InputQueue {
  readonly name: string;
  private readonly producer: Producer;
  private readonly serde: 'tensor' | 'bigdl';
  private readonly defaultTimeoutMs: number;
  private started: Promise<void> | undefined;
  private workerSeenAt = 0;
  private modelReadAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: InputQueueOptions = {}) {
    this.name = options.name ?? 'serving_stream';
    if (!JOB_NAME_PATTERN.test(this.name)) {
      throw new CsError('CS_ERR_CLI_USAGE', `job name "${this.name}" must match [A-Za-z0-9_.-]{1,64}`);
    }
    this.serde = options.serde ?? 'tensor';
    this.defaultTimeoutMs = options.timeoutMs ?? 30_000;
    this.producer = new Producer({
      redisUrl: redisUrlOf(options),
      job: this.name,
      caFile: options.caFile,
      countWindow: 256,
      ...(options.maxQueueLength === undefined ? {} : { maxQueueLength: options.maxQueueLength }),
      ...(options.maxRecordBatch === undefined ? {} : { maxRecordBatch: options.maxRecordBatch }),
      ...(options.maxRecordBytes === undefined ? {} : { maxRecordBytes: options.maxRecordBytes }),
      ...(options.redisTimeoutMs === undefined ? {} : { redisTimeoutMs: options.redisTimeoutMs }),
      ...(options.minReplicas === undefined ? {} : { minReplicas: options.minReplicas }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
  }

  /** Connects (done by the first call otherwise); a failed connect is tried again by the next call. */
  async connect(): Promise<void> {
    this.started ??= this.producer.start().catch((error: unknown) => {
      this.started = undefined;
      throw readFailure(error);
    });
    await this.started;
  }

  /**
   * Sends one request and waits for its result; throws PredictionError with the worker's reason.
   * Every other failure is a CsError too: CS_ERR_REDIS_UNAVAILABLE, CS_ERR_NO_WORKER and
   * CS_ERR_QUEUE_FULL mean the request was not accepted (safe to retry), CS_ERR_OUTCOME_UNKNOWN
   * and CS_ERR_TIMEOUT that it was and may still run.
   */
  async predict(inputs: Inputs, options: PredictOptions = {}): Promise<PredictResult> {
    try {
      return await this.predictOnce(inputs, options);
    } catch (error) {
      throw readFailure(error);
    }
  }

  private async predictOnce(inputs: Inputs, options: PredictOptions): Promise<PredictResult> {
    await this.connect();
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    await this.checkWorker(timeoutMs);
    const prediction = await this.producer.submitRaw(this.encode(inputs), {
      timeoutMs,
      ...(options.uri === undefined ? {} : { uri: options.uri }),
    });
    switch (prediction.kind) {
      case 'tensors':
        return { kind: 'tensors', outputs: byName(prediction.outputs) };
      case 'text':
        return prediction;
      case 'error':
        throw new PredictionError(prediction.code, prediction.message);
    }
  }

  /** Writes one entry with this uri; read the result with OutputQueue.query(uri). Returns the stream id. */
  async enqueue(uri: string, inputs: Inputs): Promise<string> {
    try {
      await this.connect();
      await this.refreshJobBounds();
      const entry = this.encode(inputs);
      return await this.producer.enqueueRaw(uri, entry);
    } catch (error) {
      throw readFailure(error);
    }
  }

  async close(): Promise<void> {
    await this.producer.stop();
  }

  private encode(inputs: Inputs): RawEntry {
    const tensors = toNamedTensors(inputs);
    // BigDL's form carries samples, to which the worker adds the batch dimension.
    this.producer.checkRecord(tensors, this.serde === 'tensor');
    if (this.serde === 'bigdl') return { serde: undefined, data: encodeBigdlInput(tensors) };
    return { serde: SERDE.tensor, data: encodeTensorFrame(tensors) };
  }

  /**
   * The job's bounds, read at most once per WORKER_CHECK_MS: reading them on every enqueue
   * cost one more Redis round trip per entry, as much as the XADD itself.
   */
  private async refreshJobBounds(): Promise<void> {
    if (Date.now() - this.modelReadAt < WORKER_CHECK_MS) return;
    this.producer.adoptJobBound(await readModelMetadata(this.producer.redis, this.name));
    this.modelReadAt = Date.now();
  }

  private async checkWorker(timeoutMs: number): Promise<void> {
    const now = Date.now();
    if (now - this.workerSeenAt < WORKER_CHECK_MS) return;
    const deadline = now + timeoutMs;
    for (;;) {
      const [workers, model] = await Promise.all([
        liveWorkers(this.producer.redis, this.name),
        readModelMetadata(this.producer.redis, this.name),
      ]);
      this.producer.adoptJobBound(model);
      this.modelReadAt = Date.now();
      if (workers.length > 0) {
        this.workerSeenAt = Date.now();
        return;
      }
      if (this.options.waitForWorker !== true || Date.now() > deadline) {
        throw new CsError(
          'CS_ERR_NO_WORKER',
          `no live worker serves job "${this.name}"; start one (cluster-serving start) or pass waitForWorker: true`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
