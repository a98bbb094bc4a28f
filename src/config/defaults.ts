import { availableParallelism } from 'node:os';
// keys.ts is pure (no I/O): it is imported here because it is the one place that spells
// the result prefix, which is also the frontend's redisOutputQueue default.
import { resultPrefix } from '../redis/keys.js';
import { RECORD_BOUND_DEFAULTS } from '../protocol/record-bounds.js';
import { IMAGE_DEFAULTS, type ImageDefaults } from './image-keys.js';
import type { CpuAffinity } from '../placement/cpu-plan.js';
import type { HttpOptions, ImageOptions, PostProcessing } from './types.js';

/**
 * The value every config.yaml key takes when it is absent or empty, named as in the file
 * (config/config.yaml states the same values; a test keeps them in step). modelPath has no
 * default: it is required.
 */
export interface ConfigDefaults extends ImageDefaults {
  readonly jobName: string;
  readonly postProcessing: PostProcessing;
  /** `imageResize: w,h`; undefined keeps the decoded size. */
  readonly imageResize: ImageOptions['resize'];
  readonly inputAlreadyBatched: boolean;
  /** Unset: modelParallelism and threadPerModel apply as given. */
  readonly coreNumberPerMachine: number | undefined;
  /** The cores of this machine. */
  readonly modelParallelism: number;
  readonly threadPerModel: number;
  readonly redisUrl: string;
  readonly redisMaxmemory: string;
  /** true: a Redis that we start keeps an append-only file in the home, so a crash loses nothing. */
  readonly redisPersistence: boolean;
  /** ms */
  readonly redisTimeout: number;
  readonly redisMinReplicas: number;
  readonly redisSecureEnabled: boolean;
  readonly redisSecureTrustStorePath: string | undefined;
  readonly redisSecureTrustStorePassword: string | undefined;
  readonly maxBatchSize: number;
  readonly maxBatchDelayMs: number;
  readonly maxQueueLength: number;
  readonly resultTtlSeconds: number;
  readonly maxDeliveries: number;
  readonly maxRecordBatch: number;
  /** bytes */
  readonly maxRecordBytes: number;
  /** auto: keep the plumbing off the CPUs the inference threads need (src/placement/cpu-plan.ts). */
  readonly cpuAffinity: CpuAffinity;
  /**
   * What an `http:` section gives for keys it leaves out, before inheritance: inside a
   * config the frontend takes redisUrl and jobName (as redisInputQueue, with the matching
   * redisOutputQueue) from the top level.
   */
  readonly http: HttpOptions;
}

const DEFAULT_JOB_NAME = 'serving_stream';

export const DEFAULTS: ConfigDefaults = Object.freeze({
  jobName: DEFAULT_JOB_NAME,
  postProcessing: Object.freeze({ kind: 'none' }),
  imageResize: undefined,
  ...IMAGE_DEFAULTS,
  inputAlreadyBatched: false,
  coreNumberPerMachine: undefined,
  modelParallelism: availableParallelism(),
  threadPerModel: 1,
  redisUrl: 'redis://localhost:6379',
  redisMaxmemory: '8g',
  redisPersistence: true,
  redisTimeout: 5000,
  redisMinReplicas: 0,
  redisSecureEnabled: false,
  redisSecureTrustStorePath: undefined,
  redisSecureTrustStorePassword: undefined,
  maxBatchSize: 32,
  maxBatchDelayMs: 0,
  // Queues are bounded (the reliability contract): producers are refused beyond this many
  // unanswered entries. There is no "unbounded" setting; raise the number instead.
  maxQueueLength: 10_000,
  // Long enough for a client that reconnects to read its result, short enough that an
  // abandoned result does not hold Redis memory for long.
  resultTtlSeconds: 600,
  maxDeliveries: 3,
  ...RECORD_BOUND_DEFAULTS,
  cpuAffinity: 'auto',
  http: Object.freeze({
    interface: '0.0.0.0',
    port: 10020,
    redisHost: 'localhost',
    redisPort: 6379,
    redisUrl: undefined,
    redisInputQueue: DEFAULT_JOB_NAME,
    redisOutputQueue: resultPrefix(DEFAULT_JOB_NAME),
    parallelism: 1000,
    processes: 1,
    timeWindow: 0,
    countWindow: 56,
    tokenBucketEnabled: false,
    tokensPerSecond: 100,
    tokenAcquireTimeout: 100,
    requestTimeout: 30_000,
    bodyLimit: 16 * 1024 * 1024,
    httpsEnabled: false,
    securePort: 10023,
    httpsCertPath: undefined,
    httpsKeyPath: undefined,
  }),
});
