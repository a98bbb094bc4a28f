import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../../src/config/defaults.js';
import { IGNORED_BIGDL_KEYS, TOP_LEVEL_KEYS } from '../../../src/config/keys.js';
import { loadConfig } from '../../../src/config/load.js';
import { CsError } from '../../../src/errors/registry.js';
import { ONNX_BYTES, TempDirs } from './temp-model.js';

const TEMPLATE = readFileSync(resolve(import.meta.dirname, '../../../config/config.yaml'), 'utf8');
const temp = new TempDirs();
afterAll(() => temp.cleanup());

/** A job directory: config.yaml with `text`, and the model where the template points (./model). */
function jobDir(text: string): string {
  return temp.make({ 'config.yaml': text, 'model/model.onnx': ONNX_BYTES });
}

function failure(path: string, options: { redisUrl?: string } = {}): CsError {
  try {
    loadConfig(path, options);
  } catch (error) {
    if (error instanceof CsError) return error;
    throw error;
  }
  throw new Error(`${path} was accepted`);
}

/** The template's `http:` section with its leading `# ` removed. */
function withHttpUncommented(text: string): string {
  const lines = text.split('\n');
  const start = lines.indexOf('# http:');
  expect(start).toBeGreaterThan(0);
  return [...lines.slice(0, start), ...lines.slice(start).map((line) => line.replace(/^# ?/, ''))].join('\n');
}

describe('the config.yaml template', () => {
  it('loads as it is, with the defaults it states, and no warnings', () => {
    const dir = jobDir(TEMPLATE);
    const { config, warnings } = loadConfig(join(dir, 'config.yaml'));
    expect(warnings).toEqual([]);
    expect(config.modelPath).toBe(join(dir, 'model', 'model.onnx'));
    expect(config.configPath).toBe(join(dir, 'config.yaml'));
    expect(config).toEqual({
      configPath: join(dir, 'config.yaml'),
      modelPath: join(dir, 'model', 'model.onnx'),
      jobName: DEFAULTS.jobName,
      postProcessing: DEFAULTS.postProcessing,
      inputAlreadyBatched: DEFAULTS.inputAlreadyBatched,
      modelParallelism: DEFAULTS.modelParallelism,
      threadPerModel: DEFAULTS.threadPerModel,
      redisUrl: DEFAULTS.redisUrl,
      redisMaxmemory: DEFAULTS.redisMaxmemory,
      redisPersistence: DEFAULTS.redisPersistence,
      redisTimeout: DEFAULTS.redisTimeout,
      redisMinReplicas: DEFAULTS.redisMinReplicas,
      redisSecureEnabled: DEFAULTS.redisSecureEnabled,
      redisSecureTrustStorePath: DEFAULTS.redisSecureTrustStorePath,
      redisSecureTrustStorePassword: DEFAULTS.redisSecureTrustStorePassword,
      image: {
        resize: DEFAULTS.imageResize,
        resizeMode: DEFAULTS.imageResizeMode,
        channelOrder: DEFAULTS.imageChannelOrder,
        layout: DEFAULTS.imageLayout,
        scale: DEFAULTS.imageScale,
        mean: DEFAULTS.imageMean,
        std: DEFAULTS.imageStd,
        padValue: DEFAULTS.imagePadValue,
      },
      maxBatchSize: DEFAULTS.maxBatchSize,
      maxBatchDelayMs: DEFAULTS.maxBatchDelayMs,
      maxQueueLength: DEFAULTS.maxQueueLength,
      resultTtlSeconds: DEFAULTS.resultTtlSeconds,
      maxDeliveries: DEFAULTS.maxDeliveries,
      maxRecordBatch: DEFAULTS.maxRecordBatch,
      maxRecordBytes: DEFAULTS.maxRecordBytes,
      cpuAffinity: DEFAULTS.cpuAffinity,
      http: undefined,
    });
  });

  it('names every key of DEFAULTS, the http options included', () => {
    const named = (key: string): boolean => new RegExp(`^#?\\s*${key}:`, 'm').test(TEMPLATE);
    for (const key of Object.keys(DEFAULTS)) expect(named(key), key).toBe(true);
    for (const key of Object.keys(DEFAULTS.http)) expect(named(key), `http.${key}`).toBe(true);
  });

  it("lists every known key in the key table's order: BigDL's first, as BigDL listed them, then ours", () => {
    const positions = TOP_LEVEL_KEYS.map((key) => TEMPLATE.search(new RegExp(`^(# )?${key}:`, 'm')));
    expect(positions.every((position) => position >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it('states the http defaults in its commented-out section: uncommented, it gives DEFAULTS.http', () => {
    const dir = jobDir(withHttpUncommented(TEMPLATE));
    const { config, warnings } = loadConfig(join(dir, 'config.yaml'));
    expect(warnings).toEqual([]);
    expect(config.http).toEqual({ ...DEFAULTS.http, redisUrl: DEFAULTS.redisUrl });
  });

  it('leaves the http section inheriting jobName and redisUrl once uncommented', () => {
    const text = withHttpUncommented(TEMPLATE)
      .replace('\njobName: serving_stream\n', '\njobName: images\n')
      .replace('\nredisUrl: localhost:6379\n', '\nredisUrl: cache:7000\n');
    const { config, warnings } = loadConfig(jobDir(text));
    expect(warnings).toEqual([]);
    expect(config.jobName).toBe('images');
    expect(config.http).toMatchObject({
      redisUrl: 'redis://cache:7000',
      redisHost: 'cache',
      redisPort: 7000,
      redisInputQueue: 'images',
      redisOutputQueue: 'cluster-serving_images:',
    });
  });

  it("keeps BigDL's ignored keys commented out; uncommented, each earns its warning", () => {
    let text = TEMPLATE;
    for (const key of Object.keys(IGNORED_BIGDL_KEYS)) text = text.replace(`# ${key}:`, `${key}:`);
    const { warnings } = loadConfig(join(jobDir(text), 'config.yaml'));
    // performance_mode is commented out without a value: uncommented, it is empty.
    expect(warnings).toHaveLength(Object.keys(IGNORED_BIGDL_KEYS).length - 1);
  });
});

describe('loadConfig', () => {
  it('reads config.yaml from a directory path', () => {
    const dir = jobDir('modelPath: ./model\njobName: from-dir\n');
    expect(loadConfig(dir).config.jobName).toBe('from-dir');
  });

  it('resolves a relative modelPath against the config file, not the working directory', () => {
    const dir = temp.make({
      'jobs/a/config.yaml': 'modelPath: ../../models/m\n',
      'models/m/m.onnx': ONNX_BYTES,
    });
    expect(loadConfig(join(dir, 'jobs/a/config.yaml')).config.modelPath).toBe(join(dir, 'models/m/m.onnx'));
  });

  it('reports a missing file as CS_ERR_CONFIG_NOT_FOUND, naming it and `cluster-serving init`', () => {
    const path = join(temp.make(), 'config.yaml');
    const error = failure(path);
    expect(error.code).toBe('CS_ERR_CONFIG_NOT_FOUND');
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain(path);
    expect(error.message).toContain('cluster-serving init');
  });

  it('reports YAML syntax errors with their line', () => {
    const dir = jobDir('modelPath: ./model\njobName: [unclosed\nmaxBatchSize: 4\n');
    const error = failure(join(dir, 'config.yaml'));
    expect(error.code).toBe('CS_ERR_CONFIG_INVALID');
    expect(error.message).toMatch(new RegExp(`^${join(dir, 'config.yaml')} line \\d+: not valid YAML: `));
  });

  it('reports a key written twice in the file with its line', () => {
    const dir = jobDir('modelPath: ./model\nmaxBatchSize: 4\nmaxBatchSize: 8\n');
    const error = failure(join(dir, 'config.yaml'));
    expect(error.code).toBe('CS_ERR_CONFIG_INVALID');
    expect(error.message).toContain('line 3: not valid YAML: duplicated mapping key');
  });

  it('names the file in the problem list', () => {
    const dir = jobDir('modelPath: ./model\nmaxBatchSize: lots\n');
    const error = failure(join(dir, 'config.yaml'));
    expect(error.message).toBe(
      `${join(dir, 'config.yaml')} has 1 problem:\n  - maxBatchSize: expected an integer from 1 to 4096, got "lots"`,
    );
  });

  it('reads values as YAML 1.2 core types: dates and yes stay text where text is wanted', () => {
    const dir = jobDir('modelPath: ./model\njobName: 2024-01-01\ninputAlreadyBatched: yes\n');
    const { config } = loadConfig(join(dir, 'config.yaml'));
    expect(config.jobName).toBe('2024-01-01');
    expect(config.inputAlreadyBatched).toBe(true);
  });

  it('reports `__proto__` and other object-builtin names as unknown keys', () => {
    const dir = jobDir(
      'modelPath: ./model\n__proto__:\n  maxBatchSize: 1\nconstructor: 1\nhttp:\n  toString: 1\n',
    );
    const error = failure(dir);
    expect(error.message).toContain('  - unknown key "__proto__"');
    expect(error.message).toContain('  - unknown key "constructor"');
    expect(error.message).toContain('  - unknown key "http.toString"');
  });

  it('reads an empty file as a config without modelPath', () => {
    const error = failure(join(jobDir(''), 'config.yaml'));
    expect(error.code).toBe('CS_ERR_CONFIG_INVALID');
    expect(error.message).toContain('modelPath: required');
  });

  it('applies the redisUrl override', () => {
    const dir = jobDir('modelPath: ./model\nredisUrl: cache:1\n');
    expect(loadConfig(dir, { redisUrl: 'remote:2' }).config.redisUrl).toBe('redis://remote:2');
    expect(failure(dir, { redisUrl: 'ftp://remote' }).message).toContain(
      'redis URL given on the command line',
    );
  });

  it('reads the file at call time', () => {
    const dir = jobDir('modelPath: ./model\nmaxBatchSize: 4\n');
    expect(loadConfig(dir).config.maxBatchSize).toBe(4);
    writeFileSync(join(dir, 'config.yaml'), 'modelPath: ./model\nmaxBatchSize: 5\n');
    expect(loadConfig(dir).config.maxBatchSize).toBe(5);
  });
});
