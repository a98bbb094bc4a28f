import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../../src/config/defaults.js';
import { resolveConfig, type ResolveOptions } from '../../../src/config/load.js';
import type { LoadedConfig, ServingConfig } from '../../../src/config/types.js';
import { CsError } from '../../../src/errors/registry.js';
import { TempDirs } from './temp-model.js';

const temp = new TempDirs();
afterAll(() => temp.cleanup());
const modelDir = temp.modelDir();
const modelFile = join(modelDir, 'model.onnx');

function resolveWith(raw: Record<string, unknown>, options: ResolveOptions = {}): LoadedConfig {
  return resolveConfig({ modelPath: modelDir, ...raw }, modelDir, options);
}

function failure(raw: unknown, options: ResolveOptions = {}): CsError {
  try {
    resolveConfig(raw, modelDir, options);
  } catch (error) {
    if (error instanceof CsError) return error;
    throw error;
  }
  throw new Error('the config was accepted');
}

/** The problem lines of a CS_ERR_CONFIG_INVALID. */
function problemsOf(raw: Record<string, unknown>): string[] {
  const error = failure({ modelPath: modelDir, ...raw });
  expect(error.code).toBe('CS_ERR_CONFIG_INVALID');
  return error.message
    .split('\n')
    .slice(1)
    .map((line) => line.replace(/^ {2}- /, ''));
}

describe('resolveConfig: defaults', () => {
  it('gives every default for a config with only modelPath', () => {
    const { config, warnings } = resolveWith({});
    const expected: ServingConfig = {
      configPath: undefined,
      modelPath: modelFile,
      jobName: DEFAULTS.jobName,
      postProcessing: { kind: 'none' },
      inputAlreadyBatched: false,
      modelParallelism: DEFAULTS.modelParallelism,
      threadPerModel: 1,
      redisUrl: 'redis://localhost:6379',
      redisMaxmemory: '8g',
      redisPersistence: true,
      redisTimeout: 5000,
      redisMinReplicas: 0,
      redisSecureEnabled: false,
      redisSecureTrustStorePath: undefined,
      redisSecureTrustStorePassword: undefined,
      image: {
        resize: undefined,
        resizeMode: 'stretch',
        channelOrder: 'bgr',
        layout: 'chw',
        scale: 1,
        mean: [0, 0, 0],
        std: [1, 1, 1],
        padValue: 0,
      },
      maxBatchSize: 32,
      maxBatchDelayMs: 0,
      maxQueueLength: 10_000,
      resultTtlSeconds: 600,
      maxDeliveries: 3,
      maxRecordBatch: 256,
      maxRecordBytes: 64 * 1024 * 1024,
      cpuAffinity: 'auto',
      http: undefined,
    };
    expect(config).toEqual(expected);
    expect(DEFAULTS.modelParallelism).toBeGreaterThanOrEqual(1);
    expect(warnings).toEqual([]);
  });

  it('treats an empty value as the default', () => {
    const { config } = resolveWith({
      jobName: null,
      maxBatchSize: '',
      redisUrl: '   ',
      postProcessing: null,
    });
    expect(config.jobName).toBe('serving_stream');
    expect(config.maxBatchSize).toBe(32);
    expect(config.redisUrl).toBe('redis://localhost:6379');
    expect(config.postProcessing).toEqual({ kind: 'none' });
  });

  it('returns a deeply frozen result', () => {
    const loaded = resolveWith({ http: null, imageResize: '2,2', postProcessing: 'topN(1)' });
    expect(Object.isFrozen(loaded)).toBe(true);
    expect(Object.isFrozen(loaded.warnings)).toBe(true);
    expect(Object.isFrozen(loaded.config)).toBe(true);
    expect(Object.isFrozen(loaded.config.http)).toBe(true);
    expect(Object.isFrozen(loaded.config.image.resize)).toBe(true);
    expect(Object.isFrozen(loaded.config.postProcessing)).toBe(true);
    expect(() => {
      (loaded.config as { maxBatchSize: number }).maxBatchSize = 1;
    }).toThrow(TypeError);
  });
});

describe('resolveConfig: each key', () => {
  const read = (raw: Record<string, unknown>): ServingConfig => resolveWith(raw).config;

  it.each<[string, unknown, (config: ServingConfig) => unknown, unknown]>([
    ['jobName', 'images.v2-b_1', (c) => c.jobName, 'images.v2-b_1'],
    ['jobName', 2024, (c) => c.jobName, '2024'],
    ['postProcessing', 'topN(5)', (c) => c.postProcessing, { kind: 'topN', n: 5 }],
    ['postProcessing', ' pickTopN( 2 ) ', (c) => c.postProcessing, { kind: 'pickTopN', n: 2 }],
    ['postProcessing', 'topn(3)', (c) => c.postProcessing, { kind: 'topN', n: 3 }],
    ['postProcessing', 'None', (c) => c.postProcessing, { kind: 'none' }],
    ['imageResize', '224, 160', (c) => c.image.resize, { width: 224, height: 160 }],
    ['inputAlreadyBatched', true, (c) => c.inputAlreadyBatched, true],
    ['inputAlreadyBatched', 'yes', (c) => c.inputAlreadyBatched, true],
    ['inputAlreadyBatched', 'False', (c) => c.inputAlreadyBatched, false],
    ['modelParallelism', 3, (c) => c.modelParallelism, 3],
    ['threadPerModel', '2', (c) => c.threadPerModel, 2],
    ['redisUrl', 'cache:7000', (c) => c.redisUrl, 'redis://cache:7000'],
    ['redisMaxmemory', '512MB', (c) => c.redisMaxmemory, '512mb'],
    ['redisMaxmemory', 1073741824, (c) => c.redisMaxmemory, '1073741824'],
    ['redisPersistence', 'yes', (c) => c.redisPersistence, true],
    ['redisTimeout', 250, (c) => c.redisTimeout, 250],
    ['redisMinReplicas', 1, (c) => c.redisMinReplicas, 1],
    ['redisSecureTrustStorePassword', 'changeit', (c) => c.redisSecureTrustStorePassword, 'changeit'],
    ['maxBatchSize', 4096, (c) => c.maxBatchSize, 4096],
    ['maxBatchDelayMs', 5, (c) => c.maxBatchDelayMs, 5],
    ['maxQueueLength', 1, (c) => c.maxQueueLength, 1],
    ['resultTtlSeconds', 60, (c) => c.resultTtlSeconds, 60],
    ['maxDeliveries', 10, (c) => c.maxDeliveries, 10],
    ['maxRecordBatch', 1000, (c) => c.maxRecordBatch, 1000],
    ['maxRecordBytes', '1gb', (c) => c.maxRecordBytes, 1024 ** 3],
    ['maxRecordBytes', 4096, (c) => c.maxRecordBytes, 4096],
    ['cpuAffinity', 'OFF', (c) => c.cpuAffinity, 'off'],
  ])('%s: %j', (key, value, pick, expected) => {
    expect(pick(read({ [key]: value }))).toEqual(expected);
  });

  it.each<[string, unknown, string]>([
    ['jobName', 'a:b', 'jobName: expected 1 to 64 characters from A-Z a-z 0-9 _ . -, got "a:b"'],
    ['jobName', 'x'.repeat(65), 'jobName: expected 1 to 64 characters'],
    ['postProcessing', 'top(5)', 'postProcessing: expected topN(n) or pickTopN(n)'],
    ['postProcessing', 'topN(0)', 'postProcessing: expected topN(n) or pickTopN(n) with n from 1'],
    ['imageResize', '224', 'imageResize: expected width,height in pixels, e.g. 224,224'],
    ['imageResize', '0,10', 'imageResize: expected width,height'],
    ['inputAlreadyBatched', 'maybe', 'inputAlreadyBatched: expected true or false, got "maybe"'],
    ['coreNumberPerMachine', 0, 'coreNumberPerMachine: expected an integer from 1 to 1024, got 0'],
    ['modelParallelism', 1.5, 'modelParallelism: expected an integer from 1 to 1024, got 1.5'],
    ['threadPerModel', -1, 'threadPerModel: expected an integer from 1 to 1024, got -1'],
    ['redisUrl', 'http://cache:1', 'redisUrl: expected host:port or redis://[:password@]host:port'],
    ['redisMaxmemory', '8tb', 'redisMaxmemory: expected a size like 8g, 512mb or 1073741824'],
    ['redisMaxmemory', '10', 'redisMaxmemory: expected a size'],
    ['redisPersistence', 'sometimes', 'redisPersistence: expected true or false, got "sometimes"'],
    ['redisTimeout', 0, 'redisTimeout: expected an integer from 1 to 600000, got 0'],
    ['redisMinReplicas', -1, 'redisMinReplicas: expected an integer from 0 to 64, got -1'],
    ['redisSecureEnabled', 'sure', 'redisSecureEnabled: expected true or false, got "sure"'],
    ['maxBatchSize', 0, 'maxBatchSize: expected an integer from 1 to 4096, got 0'],
    ['maxBatchSize', 4097, 'maxBatchSize: expected an integer from 1 to 4096, got 4097'],
    ['maxBatchSize', { size: 1 }, 'maxBatchSize: expected an integer from 1 to 4096, got a mapping'],
    ['maxBatchSize', [1, 2], 'maxBatchSize: expected an integer from 1 to 4096, got a list'],
    ['maxBatchDelayMs', -1, 'maxBatchDelayMs: expected an integer from 0 to 60000'],
    ['maxQueueLength', 0, 'maxQueueLength: expected an integer from 1 to 10000000, got 0'],
    ['resultTtlSeconds', 0, 'resultTtlSeconds: expected an integer from 1'],
    ['maxDeliveries', 0, 'maxDeliveries: expected an integer from 1 to 100, got 0'],
    ['maxRecordBatch', 0, 'maxRecordBatch: expected an integer from 1 to 1000000, got 0'],
    ['maxRecordBytes', '8gb', 'maxRecordBytes: expected a size like 8g, 512mb or 1073741824'],
    ['cpuAffinity', 'pinned', 'cpuAffinity: expected one of auto, off, got "pinned"'],
    ['modelPath', { path: 'x' }, 'modelPath: expected a text value, got a mapping'],
  ])('refuses %s: %j', (key, value, expected) => {
    expect(problemsOf({ [key]: value })).toEqual([expect.stringContaining(expected)]);
  });

  it('never shows the trust store password or a URL password in a problem', () => {
    const problems = problemsOf({
      redisSecureTrustStorePassword: ['hunter2'],
      redisUrl: 'http://:hunter2@cache:1',
    });
    expect(problems).toHaveLength(2);
    expect(problems.join('\n')).not.toContain('hunter2');
  });
});

describe('resolveConfig: key names', () => {
  it('matches keys case-insensitively', () => {
    const { config } = resolveConfig({ MODELPATH: modelDir, jobname: 'j', MaxBatchSize: 8, HTTP: null }, '/');
    expect(config.modelPath).toBe(modelFile);
    expect(config.jobName).toBe('j');
    expect(config.maxBatchSize).toBe(8);
    expect(config.http?.redisInputQueue).toBe('j');
  });

  it('names a key in problems as the user spelled it', () => {
    expect(problemsOf({ MAXBATCHSIZE: 0 })).toEqual([
      'MAXBATCHSIZE: expected an integer from 1 to 4096, got 0',
    ]);
  });

  it('refuses a key given twice in two spellings', () => {
    expect(problemsOf({ maxBatchSize: 8, maxbatchsize: 8 })).toEqual([
      'maxbatchsize: given twice (also as maxBatchSize; keys are case-insensitive), keep one of them',
    ]);
  });

  it.each([
    ['modelPth', 'unknown key "modelPth" (did you mean "modelPath"?)'],
    ['maxbatchsise', 'unknown key "maxbatchsise" (did you mean "maxBatchSize"?)'],
    ['jobNmae', 'unknown key "jobNmae" (did you mean "jobName"?)'],
    ['redis', 'unknown key "redis" (did you mean "redisUrl"?)'],
    ['port', 'unknown key "port" (did you mean "http.port"?)'],
    ['countWindow', 'unknown key "countWindow" (did you mean "http.countWindow"?)'],
    ['frobnicate', 'unknown key "frobnicate"'],
  ])('refuses the unknown key %s with the closest known one', (key, expected) => {
    expect(problemsOf({ [key]: 1 })).toEqual([expected]);
  });
});

describe('resolveConfig: all problems at once', () => {
  it('lists every problem in one CS_ERR_CONFIG_INVALID, one per line, naming the file', () => {
    const error = failure(
      { modelPth: './model', maxBatchSize: 0, jobName: 'a b', redisUrl: 'ftp://x', http: { port: -1 } },
      { configPath: '/srv/job/config.yaml' },
    );
    expect(error.code).toBe('CS_ERR_CONFIG_INVALID');
    expect(error.exitCode).toBe(2);
    const lines = error.message.split('\n');
    expect(lines[0]).toBe('/srv/job/config.yaml has 6 problems:');
    expect(lines.slice(1)).toEqual([
      '  - unknown key "modelPth" (did you mean "modelPath"?)',
      expect.stringMatching(/^ {2}- modelPath: required: /),
      '  - jobName: expected 1 to 64 characters from A-Z a-z 0-9 _ . -, got "a b"',
      '  - redisUrl: expected host:port or redis://[:password@]host:port (rediss:// for TLS), or redis-sentinel://[:password@]host:port,host:port/<masterName>, got "ftp://x"',
      '  - http.port: expected an integer from 0 to 65535, got -1',
      '  - maxBatchSize: expected an integer from 1 to 4096, got 0',
    ]);
  });

  it('reports a model problem with the others when there are others', () => {
    const error = failure({ modelPath: temp.make(), maxDeliveries: 0 });
    expect(error.code).toBe('CS_ERR_CONFIG_INVALID');
    expect(error.message).toContain('has 2 problems');
    expect(error.message).toMatch(/ {2}- modelPath: no \.onnx file in /);
    expect(error.message).toContain('  - maxDeliveries: expected an integer from 1 to 100, got 0');
  });

  it("throws the model's own error when the model is the only problem", () => {
    expect(failure({ modelPath: temp.make() }).code).toBe('CS_ERR_MODEL_NOT_FOUND');
    expect(failure({ modelPath: temp.make({ 'a.onnx': 'text', 'b.onnx': 'text' }) }).code).toBe(
      'CS_ERR_MODEL_LOAD',
    );
  });

  it('refuses a document that is not a mapping, and reads an empty one as missing modelPath', () => {
    expect(failure(['modelPath']).message).toContain(
      'the file must be a mapping of "key: value" lines, got a list',
    );
    expect(failure('just text').message).toContain('got "just text"');
    const empty = failure(null);
    expect(empty.code).toBe('CS_ERR_CONFIG_INVALID');
    expect(empty.message).toContain('modelPath: required');
  });
});

describe('resolveConfig: modelPath', () => {
  it('resolves a relative modelPath against the base directory, not the working directory', () => {
    const base = temp.make({ 'models/resnet/resnet.onnx': Buffer.from([0x08, 0x07]) });
    const { config } = resolveConfig({ modelPath: './models/resnet' }, base);
    expect(config.modelPath).toBe(join(base, 'models/resnet/resnet.onnx'));
  });

  it('accepts the .onnx file itself', () => {
    expect(resolveConfig({ modelPath: modelFile }, '/').config.modelPath).toBe(modelFile);
  });
});
