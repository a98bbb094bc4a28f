import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../../src/config/defaults.js';
import { IGNORED_BIGDL_KEYS } from '../../../src/config/keys.js';
import { resolveConfig } from '../../../src/config/load.js';
import type { LoadedConfig } from '../../../src/config/types.js';
import { CsError } from '../../../src/errors/registry.js';
import { TempDirs } from './temp-model.js';

const temp = new TempDirs();
afterAll(() => temp.cleanup());
const modelDir = temp.modelDir();

function resolveWith(raw: Record<string, unknown>): LoadedConfig {
  return resolveConfig({ modelPath: modelDir, ...raw }, modelDir);
}

function messageOf(raw: Record<string, unknown>): string {
  try {
    resolveConfig(raw, modelDir);
  } catch (error) {
    if (error instanceof CsError) return error.message;
    throw error;
  }
  throw new Error('the config was accepted');
}

describe('BigDL keys that are accepted and ignored', () => {
  const ignored = Object.keys(IGNORED_BIGDL_KEYS);

  it('covers the six keys BigDL had and we do not implement', () => {
    expect(ignored.sort()).toEqual(
      [
        'flinkRestUrl',
        'kafkaUrl',
        'modelEncrypted',
        'performance_mode',
        'queueUsed',
        'recordEncrypted',
      ].sort(),
    );
  });

  it.each([
    ['queueUsed', 'kafka'],
    ['kafkaUrl', 'localhost:9092'],
    ['flinkRestUrl', 'localhost:8081'],
    ['performance_mode', 'ON'],
    ['modelEncrypted', true],
    ['recordEncrypted', false],
  ])('%s earns one warning naming it', (key, value) => {
    const { warnings } = resolveWith({ [key]: value });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      new RegExp(`^${key} is a BigDL key that cluster-serving accepts and ignores: .+`),
    );
  });

  it('warns once per key, in the user spelling, and not at all for empty values', () => {
    const { warnings } = resolveWith({
      QUEUEUSED: 'redis',
      kafkaUrl: 'k:1',
      flinkRestUrl: null,
      modelEncrypted: '',
    });
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/^QUEUEUSED is a BigDL key/);
    expect(warnings[1]).toMatch(/^kafkaUrl is a BigDL key/);
  });
});

describe('coreNumberPerMachine', () => {
  it('sets modelParallelism = n and threadPerModel = 1 without a warning when used alone', () => {
    const { config, warnings } = resolveWith({ coreNumberPerMachine: 6 });
    expect(config.modelParallelism).toBe(6);
    expect(config.threadPerModel).toBe(1);
    expect(warnings).toEqual([]);
  });

  it('wins over modelParallelism, with a warning naming it', () => {
    const { config, warnings } = resolveWith({ coreNumberPerMachine: 4, modelParallelism: 2 });
    expect(config.modelParallelism).toBe(4);
    expect(warnings).toEqual([
      'coreNumberPerMachine: 4 sets modelParallelism to 4 and threadPerModel to 1; the modelParallelism: 2 also given is ignored',
    ]);
  });

  it('wins over both, with one warning naming both', () => {
    const { config, warnings } = resolveWith({
      coreNumberPerMachine: 4,
      modelParallelism: 2,
      threadPerModel: 8,
    });
    expect(config.modelParallelism).toBe(4);
    expect(config.threadPerModel).toBe(1);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('the modelParallelism: 2 and threadPerModel: 8 also given are ignored');
  });

  it('leaves modelParallelism and threadPerModel alone when empty', () => {
    const { config, warnings } = resolveWith({
      coreNumberPerMachine: null,
      modelParallelism: 2,
      threadPerModel: 3,
    });
    expect(config.modelParallelism).toBe(2);
    expect(config.threadPerModel).toBe(3);
    expect(warnings).toEqual([]);
  });
});

describe('Analytics Zoo 0.x sections', () => {
  it('reads model.path, data.src, params.core_number, params.batch_size and params.top_n', () => {
    const { config, warnings } = resolveConfig(
      {
        model: { path: modelDir },
        data: { src: 'cache:7000', shape: '3,224,224' },
        params: { core_number: 2, batch_size: 16, top_n: 5, engine_type: 'mklblas' },
        log: { error: 'y', summary: null },
        spark: { master: 'local[*]' },
      },
      '/',
    );
    expect(config.modelPath).toBe(join(modelDir, 'model.onnx'));
    expect(config.redisUrl).toBe('redis://cache:7000');
    expect(config.modelParallelism).toBe(2);
    expect(config.threadPerModel).toBe(1);
    expect(config.maxBatchSize).toBe(16);
    expect(config.postProcessing).toEqual({ kind: 'topN', n: 5 });
    expect(warnings).toEqual([
      'data.shape (an Analytics Zoo 0.x key) is not read by cluster-serving',
      'params.engine_type (an Analytics Zoo 0.x key) is not read by cluster-serving',
      'log.error (an Analytics Zoo 0.x key) is not read by cluster-serving',
      'spark.master (an Analytics Zoo 0.x key) is not read by cluster-serving',
    ]);
  });

  it('names the nested key in problems', () => {
    expect(messageOf({ model: { path: modelDir }, params: { batch_size: 0 } })).toContain(
      'params.batch_size: expected an integer from 1 to 4096, got 0',
    );
    expect(messageOf({ model: { path: modelDir }, params: { top_n: 'all' } })).toContain(
      'params.top_n: expected topN(n) or pickTopN(n)',
    );
  });

  it('refuses the same setting given flat and nested', () => {
    expect(messageOf({ modelPath: modelDir, model: { path: modelDir } })).toContain(
      'model.path: given twice (also as modelPath; keys are case-insensitive), keep one of them',
    );
  });

  it('treats `model` with a plain value as an unknown key', () => {
    expect(messageOf({ modelPath: modelDir, model: './m.onnx' })).toContain(
      'unknown key "model" (did you mean "modelPath"?)',
    );
  });
});

describe('DEFAULTS', () => {
  it('is frozen, so no caller can change a default for everyone', () => {
    expect(Object.isFrozen(DEFAULTS)).toBe(true);
    expect(Object.isFrozen(DEFAULTS.http)).toBe(true);
    expect(Object.isFrozen(DEFAULTS.postProcessing)).toBe(true);
  });
});
