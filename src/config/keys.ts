import { availableParallelism } from 'node:os';
import { JOB_NAME_PATTERN, resultPrefix } from '../contracts/job-names.js';
import type { CpuAffinity } from '../placement/cpu-plan.js';
import { RECORD_BOUND_DEFAULTS } from '../protocol/record-bounds.js';
import {
  bytesIn,
  choice,
  formatSize,
  integerIn,
  parseBoolean,
  parsePostProcessingValue,
  parseText,
  sizeTextIn,
  textMatching,
  type ValueParser,
} from './value-parsers.js';
import { parseRedisUrl } from './redis-url.js';
import { IMAGE_KEYS, IMAGE_TABLE } from './image-keys.js';
import { key, parsersOf, type ValuesOf } from './key-spec.js';

/**
 * The key table: every name config.yaml may use, how each value is read and its bounds.
 * Names are matched case-insensitively; these spellings are the ones messages and the
 * template use.
 */

const GIB = 1024 ** 3;
const BODY_LIMIT = 16 * 1024 * 1024;

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

export const DEFAULT_JOB_NAME = 'serving_stream';

const HOST_PATTERN = /^[A-Za-z0-9.:%_[\]-]{1,255}$/;

/**
 * The top-level keys read with a parser (modelPath and http need more), each with its
 * default and doc line; the image keys have their own table (image-keys.ts). modelPath has
 * no default: it is required.
 */
export const TOP_LEVEL_TABLE = {
  jobName: key(parseJobName, DEFAULT_JOB_NAME, 'stream, model name; `[A-Za-z0-9_.-]{1,64}`'),
  postProcessing: key(
    parsePostProcessingValue,
    Object.freeze({ kind: 'none' } as const),
    '`topN(n)` or `pickTopN(n)` instead of the tensor',
    'none',
  ),
  inputAlreadyBatched: key(parseBoolean, false, '`true`: records carry their batch dimension'),
  coreNumberPerMachine: key(integerIn(1, 1024), undefined, 'sets n workers of 1 thread each', 'unset'),
  modelParallelism: key(
    integerIn(1, 1024),
    availableParallelism(),
    'worker processes on this machine',
    'cores',
  ),
  threadPerModel: key(integerIn(1, 1024), 1, 'onnxruntime intra-op threads per worker'),
  // auto: keep the plumbing off the CPUs the inference threads need (src/placement/cpu-plan.ts).
  cpuAffinity: key(
    choice(['auto', 'off'] as const satisfies readonly CpuAffinity[]),
    'auto',
    '`auto`: models get CPUs of their own; or `off`',
  ),
  redisUrl: key(
    parseRedisUrl,
    'redis://localhost:6379',
    'the Redis; `rediss://`, `redis-sentinel://` too',
    '`localhost:6379`',
  ),
  redisMaxmemory: key(
    sizeTextIn(1024 * 1024, 1024 * GIB),
    '8g',
    'maxmemory of a Redis we start (noeviction)',
  ),
  // On, so that a crash of Redis or of the supervisor loses at most the last second of writes.
  redisPersistence: key(parseBoolean, true, 'a Redis we start keeps an append-only file'),
  redisTimeout: key(integerIn(1, 600_000), 5000, 'Redis connect and command timeout, ms'),
  redisMinReplicas: key(integerIn(0, 64), 0, 'replicas that must hold an entry (`WAIT`)'),
  redisSecureEnabled: key(parseBoolean, false, 'TLS to Redis (as a `rediss://` URL)'),
  redisSecureTrustStorePath: key(parseText, undefined, "PEM CA file for TLS (empty: the system's)"),
  redisSecureTrustStorePassword: key(parseText, undefined, "BigDL's; never shown in messages"),
  maxBatchSize: key(integerIn(1, 4096), 32, 'most records in one `session.run`'),
  maxBatchDelayMs: key(integerIn(0, 60_000), 0, 'ms a batch may wait to fill'),
  // Queues are bounded (the reliability contract): producers are refused beyond this many
  // unanswered entries. There is no "unbounded" setting; raise the number instead.
  maxQueueLength: key(integerIn(1, 10_000_000), 10_000, 'producers refused beyond this many queued requests'),
  // Long enough for a client that reconnects to read its result, short enough that an
  // abandoned result does not hold Redis memory for long.
  resultTtlSeconds: key(integerIn(1, 7 * 24 * 3600), 600, 'seconds a result hash lives'),
  maxDeliveries: key(integerIn(1, 100), 3, 'deliveries before `CS_ERR_POISON_RECORD`'),
  maxRecordBatch: key(
    integerIn(1, 1_000_000),
    RECORD_BOUND_DEFAULTS.maxRecordBatch,
    'most rows in one record',
  ),
  maxRecordBytes: key(
    bytesIn(1024, 4 * GIB),
    RECORD_BOUND_DEFAULTS.maxRecordBytes,
    'most tensor bytes in one record',
    `\`${formatSize(RECORD_BOUND_DEFAULTS.maxRecordBytes)}\``,
  ),
} as const;

/** Keys read at the top level, with their parsers. */
export const TOP_LEVEL_PARSERS = {
  ...parsersOf(TOP_LEVEL_TABLE),
  ...parsersOf(IMAGE_TABLE),
} as const;

export type TopLevelKey = keyof typeof TOP_LEVEL_PARSERS;

/** What the keys of TOP_LEVEL_TABLE resolve to (ServingConfig is built on it). */
export type TopLevelValues = ValuesOf<typeof TOP_LEVEL_TABLE>;

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
  ...IMAGE_KEYS.filter((name) => name !== 'imageResize'),
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
    textMatching(HOST_PATTERN, 'a host name or IP address to listen on, e.g. 0.0.0.0'),
    '0.0.0.0',
    'address to listen on',
  ),
  port: key(
    integerIn(0, 65_535),
    10020,
    'port; one already in use is refused (`CS_ERR_PORT_IN_USE`, exit 1)',
  ),
  redisHost: key(
    textMatching(HOST_PATTERN, 'a host name or IP address'),
    'localhost',
    "BigDL's way to name Redis, with `redisPort`",
  ),
  redisPort: key(integerIn(1, 65_535), 6379, "BigDL's way to name Redis, with `redisHost`"),
  redisUrl: key(
    parseRedisUrl,
    undefined,
    '`redis://[:password@]host:port` or `rediss://`; wins over host/port',
    "(the job's)",
  ),
  redisInputQueue: key(
    parseJobName,
    DEFAULT_JOB_NAME,
    'the job: stream name and OIP model name',
    'jobName (`serving_stream`)',
  ),
  redisOutputQueue: key(
    textMatching(/^\S{1,256}$/, 'a key prefix without spaces, e.g. cluster-serving_serving_stream:'),
    resultPrefix(DEFAULT_JOB_NAME),
    "BigDL's; results come back under the default prefix, another value only warns",
    '`cluster-serving_<redisInputQueue>:`',
  ),
  parallelism: key(
    integerIn(1, 1_000_000),
    1000,
    'most prediction requests in flight; the next one gets 503 at once',
  ),
  processes: key(
    integerIn(1, 64),
    1,
    'frontend processes sharing the port (node:cluster), for when JSON parsing bounds one',
  ),
  timeWindow: key(
    integerIn(0, 60_000),
    0,
    'ms to wait to fill a write window; 0: what arrived by the next event-loop turn goes',
  ),
  countWindow: key(integerIn(1, 100_000), 56, 'most entries written to Redis in one round trip'),
  tokenBucketEnabled: key(parseBoolean, false, 'rate limiting: 429 when no token comes in time'),
  tokensPerSecond: key(
    integerIn(1, 1_000_000),
    100,
    'token rate; the bucket holds one second of tokens and starts full',
  ),
  tokenAcquireTimeout: key(
    integerIn(0, 600_000),
    100,
    'ms a request may wait for its token; if the next token comes later, 429 at once',
  ),
  requestTimeout: key(
    integerIn(1, 3_600_000),
    30_000,
    'ms before a prediction is answered 504 (workers skip entries past it)',
  ),
  bodyLimit: key(
    bytesIn(1024, GIB),
    BODY_LIMIT,
    'largest request body; larger ones get 413',
    `\`${formatSize(BODY_LIMIT)}\``,
  ),
  httpsEnabled: key(parseBoolean, false, 'also serve HTTPS on `securePort`; `port` keeps serving plain HTTP'),
  securePort: key(integerIn(0, 65_535), 10023, 'HTTPS port; must differ from `port`'),
  httpsCertPath: key(
    parseText,
    undefined,
    "PEM certificate, then any intermediates; relative to config.yaml's folder",
    '(required with HTTPS)',
  ),
  httpsKeyPath: key(
    parseText,
    undefined,
    'PEM private key, unencrypted (keep it `chmod 600`)',
    '(required with HTTPS)',
  ),
} as const;

/** The frontend's options, resolved: what HttpOptions (types.ts) is. */
export type HttpValues = ValuesOf<typeof HTTP_TABLE>;

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
