import { availableParallelism } from 'node:os';
import { JOB_NAME_PATTERN, resultPrefix } from '../contracts/job-names.js';
import type { CpuAffinity } from '../placement/cpu-plan.js';
import type { PostProcessing } from '../protocol/post-processing.js';
import { RECORD_BOUND_DEFAULTS } from '../protocol/record-bounds.js';
import {
  choice,
  integerIn,
  parseBoolean,
  parseImageResize,
  parsePostProcessingValue,
  parseText,
  sizeIn,
  textMatching,
  type ValueParser,
} from './value-parsers.js';
import { parseRedisUrl } from './redis-url.js';
import { IMAGE_KEYS, IMAGE_PARSERS } from './image-keys.js';
import type { ImageOptions } from './types.js';

/**
 * The key table: every name config.yaml may use, how each value is read and its bounds.
 * Names are matched case-insensitively; these spellings are the ones messages and the
 * template use.
 */

const GIB = 1024 ** 3;

export const JOB_NAME_EXPECTED = '1 to 64 characters from A-Z a-z 0-9 _ . -';

/** `GET /v2/models/stats` is always Triton's statistics route, so no model (job) may be called that. */
const RESERVED_JOB_NAMES: ReadonlySet<string> = new Set(['stats']);

const parseJobName: ValueParser<string> = (value) => {
  const parsed = textMatching(JOB_NAME_PATTERN, JOB_NAME_EXPECTED)(value);
  if (parsed.ok && RESERVED_JOB_NAMES.has(parsed.value)) {
    return {
      ok: false,
      expected: `a name other than "${parsed.value}" (GET /v2/models/stats is the HTTP frontend's statistics route)`,
    };
  }
  return parsed;
};

/** One config.yaml key: how its value is read, and what it is when absent or empty. */
export interface KeySpec<P, D> {
  readonly parse: ValueParser<P>;
  readonly default: D;
}

function key<P, D>(parse: ValueParser<P>, defaultValue: D): KeySpec<P, D> {
  return Object.freeze({ parse, default: defaultValue });
}

type ParsersOf<T extends Record<string, KeySpec<unknown, unknown>>> = {
  readonly [K in keyof T]: T[K]['parse'];
};
export type DefaultsOf<T extends Record<string, KeySpec<unknown, unknown>>> = {
  readonly [K in keyof T]: T[K]['default'];
};

function parsersOf<T extends Record<string, KeySpec<unknown, unknown>>>(table: T): ParsersOf<T> {
  return Object.fromEntries(Object.entries(table).map(([name, spec]) => [name, spec.parse])) as ParsersOf<T>;
}

export function defaultsOf<T extends Record<string, KeySpec<unknown, unknown>>>(table: T): DefaultsOf<T> {
  return Object.fromEntries(
    Object.entries(table).map(([name, spec]) => [name, spec.default]),
  ) as DefaultsOf<T>;
}

export const DEFAULT_JOB_NAME = 'serving_stream';

/**
 * The top-level keys read with a parser (modelPath and http need more), each with its default;
 * the image keys have their own table (image-keys.ts). DEFAULTS and TOP_LEVEL_PARSERS are
 * made from it; config/config.yaml and the README's config table name every key (a test
 * checks). modelPath has no default: it is required.
 */
export const TOP_LEVEL_TABLE = {
  jobName: key(parseJobName, DEFAULT_JOB_NAME),
  postProcessing: key(parsePostProcessingValue, Object.freeze({ kind: 'none' }) as PostProcessing),
  /** `imageResize: w,h`; undefined keeps the decoded size. */
  imageResize: key(parseImageResize, undefined as ImageOptions['resize']),
  inputAlreadyBatched: key(parseBoolean, false),
  /** Unset: modelParallelism and threadPerModel apply as given. */
  coreNumberPerMachine: key(integerIn(1, 1024), undefined as number | undefined),
  /** The cores of this machine. */
  modelParallelism: key(integerIn(1, 1024), availableParallelism()),
  threadPerModel: key(integerIn(1, 1024), 1),
  /** auto: keep the plumbing off the CPUs the inference threads need (src/placement/cpu-plan.ts). */
  cpuAffinity: key(choice(['auto', 'off'] as const), 'auto' as CpuAffinity),
  redisUrl: key(parseRedisUrl, 'redis://localhost:6379'),
  redisMaxmemory: key(sizeIn(1024 * 1024, 1024 * GIB), '8g'),
  /** true: a Redis that we start keeps an append-only file in the home, so a crash loses nothing. */
  redisPersistence: key(parseBoolean, true),
  /** ms */
  redisTimeout: key(integerIn(1, 600_000), 5000),
  redisMinReplicas: key(integerIn(0, 64), 0),
  redisSecureEnabled: key(parseBoolean, false),
  redisSecureTrustStorePath: key(parseText, undefined as string | undefined),
  redisSecureTrustStorePassword: key(parseText, undefined as string | undefined),
  maxBatchSize: key(integerIn(1, 4096), 32),
  maxBatchDelayMs: key(integerIn(0, 60_000), 0),
  // Queues are bounded (the reliability contract): producers are refused beyond this many
  // unanswered entries. There is no "unbounded" setting; raise the number instead.
  maxQueueLength: key(integerIn(1, 10_000_000), 10_000),
  // Long enough for a client that reconnects to read its result, short enough that an
  // abandoned result does not hold Redis memory for long.
  resultTtlSeconds: key(integerIn(1, 7 * 24 * 3600), 600),
  maxDeliveries: key(integerIn(1, 100), 3),
  maxRecordBatch: key(integerIn(1, 1_000_000), RECORD_BOUND_DEFAULTS.maxRecordBatch),
  /** bytes */
  maxRecordBytes: key(sizeIn(1024, 4 * GIB), RECORD_BOUND_DEFAULTS.maxRecordBytes),
} as const;

/** Keys read at the top level, with their parsers. */
export const TOP_LEVEL_PARSERS = {
  ...parsersOf(TOP_LEVEL_TABLE),
  ...IMAGE_PARSERS,
} as const satisfies Record<string, ValueParser<unknown>>;

export type TopLevelKey = keyof typeof TOP_LEVEL_PARSERS;

/** BigDL keys that are accepted and do nothing here: a non-empty value earns one warning, saying why. */
export const IGNORED_BIGDL_KEYS: Readonly<Record<string, string>> = {
  performance_mode: 'onnxruntime applies its own graph optimisations',
  flinkRestUrl: 'there is no Flink; `cluster-serving list` shows the job',
  queueUsed: 'inputs always go through a Redis stream',
  kafkaUrl: 'Kafka is not supported; inputs go through Redis',
  modelEncrypted: 'encrypted models are not supported; give a plain .onnx file',
  recordEncrypted: 'encrypted records are not supported',
};

/** Every top-level name, in the template's order: BigDL's keys as BigDL listed them, then ours. */
export const TOP_LEVEL_KEYS: readonly string[] = [
  'modelPath',
  'jobName',
  'postProcessing',
  'imageResize',
  'inputAlreadyBatched',
  'coreNumberPerMachine',
  'modelParallelism',
  'threadPerModel',
  'performance_mode',
  'flinkRestUrl',
  'queueUsed',
  'redisUrl',
  'kafkaUrl',
  'redisMaxmemory',
  'redisTimeout',
  'redisMinReplicas',
  'redisSecureEnabled',
  'redisSecureTrustStorePath',
  'redisSecureTrustStorePassword',
  'modelEncrypted',
  'recordEncrypted',
  'maxBatchSize',
  'maxBatchDelayMs',
  'maxQueueLength',
  'resultTtlSeconds',
  'maxDeliveries',
  'maxRecordBatch',
  'maxRecordBytes',
  'redisPersistence',
  'cpuAffinity',
  ...IMAGE_KEYS,
  'http',
];

/** Keys whose values never appear in messages. */
export const SECRET_KEYS: ReadonlySet<string> = new Set(['redisSecureTrustStorePassword']);

/**
 * The frontend's options (an `http:` section or `cluster-serving http` flags) with what a
 * section gives for keys it leaves out, before inheritance: inside a config the frontend
 * takes redisUrl and jobName (as redisInputQueue, with the matching redisOutputQueue) from
 * the top level.
 */
export const HTTP_TABLE = {
  interface: key(
    textMatching(/^[A-Za-z0-9.:%_[\]-]{1,255}$/, 'a host name or IP address to listen on, e.g. 0.0.0.0'),
    '0.0.0.0',
  ),
  port: key(integerIn(0, 65_535), 10020),
  redisHost: key(textMatching(/^[A-Za-z0-9.:%_[\]-]{1,255}$/, 'a host name or IP address'), 'localhost'),
  redisPort: key(integerIn(1, 65_535), 6379),
  redisUrl: key(parseRedisUrl, undefined as string | undefined),
  redisInputQueue: key(parseJobName, DEFAULT_JOB_NAME),
  redisOutputQueue: key(
    textMatching(/^\S{1,256}$/, 'a key prefix without spaces, e.g. cluster-serving_serving_stream:'),
    resultPrefix(DEFAULT_JOB_NAME),
  ),
  parallelism: key(integerIn(1, 1_000_000), 1000),
  processes: key(integerIn(1, 64), 1),
  timeWindow: key(integerIn(0, 60_000), 0),
  countWindow: key(integerIn(1, 100_000), 56),
  tokenBucketEnabled: key(parseBoolean, false),
  tokensPerSecond: key(integerIn(1, 1_000_000), 100),
  tokenAcquireTimeout: key(integerIn(0, 600_000), 100),
  requestTimeout: key(integerIn(1, 3_600_000), 30_000),
  bodyLimit: key(sizeIn(1024, GIB), 16 * 1024 * 1024),
  httpsEnabled: key(parseBoolean, false),
  securePort: key(integerIn(0, 65_535), 10023),
  httpsCertPath: key(parseText, undefined as string | undefined),
  httpsKeyPath: key(parseText, undefined as string | undefined),
} as const;

export const HTTP_PARSERS = parsersOf(HTTP_TABLE);

export type HttpKey = keyof typeof HTTP_PARSERS;

export const HTTP_KEYS: readonly string[] = Object.keys(HTTP_PARSERS);

/**
 * Analytics Zoo 0.x wrote config.yaml in sections (`model: {path:}`, `data: {src:}`,
 * `params: {core_number:}`). These sub-keys mean the same as a flat key today; every other
 * key under these sections is reported as not read.
 */
export const LEGACY_SECTIONS: readonly string[] = ['model', 'data', 'params', 'log', 'spark'];

export const LEGACY_KEYS: ReadonlyMap<string, TopLevelKey | 'modelPath'> = new Map<
  string,
  TopLevelKey | 'modelPath'
>([
  ['model.path', 'modelPath'],
  ['data.src', 'redisUrl'],
  ['params.core_number', 'coreNumberPerMachine'],
  ['params.batch_size', 'maxBatchSize'],
  ['params.top_n', 'postProcessing'],
]);
