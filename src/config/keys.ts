import { JOB_NAME_PATTERN } from '../redis/keys.js';
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

/** Keys read at the top level, with their parsers (modelPath and redisUrl need more than a parser). */
export const TOP_LEVEL_PARSERS = {
  jobName: parseJobName,
  postProcessing: parsePostProcessingValue,
  imageResize: parseImageResize,
  inputAlreadyBatched: parseBoolean,
  coreNumberPerMachine: integerIn(1, 1024),
  modelParallelism: integerIn(1, 1024),
  threadPerModel: integerIn(1, 1024),
  cpuAffinity: choice(['auto', 'off'] as const),
  redisUrl: parseRedisUrl,
  redisMaxmemory: sizeIn(1024 * 1024, 1024 * GIB),
  redisPersistence: parseBoolean,
  redisTimeout: integerIn(1, 600_000),
  redisMinReplicas: integerIn(0, 64),
  redisSecureEnabled: parseBoolean,
  redisSecureTrustStorePath: parseText,
  redisSecureTrustStorePassword: parseText,
  maxBatchSize: integerIn(1, 4096),
  maxBatchDelayMs: integerIn(0, 60_000),
  maxQueueLength: integerIn(1, 10_000_000),
  resultTtlSeconds: integerIn(1, 7 * 24 * 3600),
  maxDeliveries: integerIn(1, 100),
  maxRecordBatch: integerIn(1, 1_000_000),
  maxRecordBytes: sizeIn(1024, 4 * GIB),
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

export const HTTP_PARSERS = {
  interface: textMatching(
    /^[A-Za-z0-9.:%_[\]-]{1,255}$/,
    'a host name or IP address to listen on, e.g. 0.0.0.0',
  ),
  port: integerIn(0, 65_535),
  redisHost: textMatching(/^[A-Za-z0-9.:%_[\]-]{1,255}$/, 'a host name or IP address'),
  redisPort: integerIn(1, 65_535),
  redisUrl: parseRedisUrl,
  redisInputQueue: parseJobName,
  redisOutputQueue: textMatching(
    /^\S{1,256}$/,
    'a key prefix without spaces, e.g. cluster-serving_serving_stream:',
  ),
  parallelism: integerIn(1, 1_000_000),
  processes: integerIn(1, 64),
  timeWindow: integerIn(0, 60_000),
  countWindow: integerIn(1, 100_000),
  tokenBucketEnabled: parseBoolean,
  tokensPerSecond: integerIn(1, 1_000_000),
  tokenAcquireTimeout: integerIn(0, 600_000),
  requestTimeout: integerIn(1, 3_600_000),
  bodyLimit: sizeIn(1024, GIB),
  httpsEnabled: parseBoolean,
  securePort: integerIn(0, 65_535),
  httpsCertPath: parseText,
  httpsKeyPath: parseText,
} as const satisfies Record<string, ValueParser<unknown>>;

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
