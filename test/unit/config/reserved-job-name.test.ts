import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { CsError } from '../../../src/errors/registry.js';
import { ONNX_BYTES, TempDirs } from './temp-model.js';

const temp = new TempDirs();
afterAll(() => temp.cleanup());

function load(text: string): ReturnType<typeof loadConfig> {
  const dir = temp.make({ 'config.yaml': text, 'model/model.onnx': ONNX_BYTES });
  return loadConfig(join(dir, 'config.yaml'));
}

function failure(text: string): CsError {
  try {
    load(text);
  } catch (error) {
    if (error instanceof CsError) return error;
    throw error;
  }
  throw new Error('the config was accepted');
}

describe('jobName stats', () => {
  it('is refused with the reason: /v2/models/stats is the statistics route', () => {
    const error = failure('modelPath: ./model\njobName: stats\n');
    expect(error.code).toBe('CS_ERR_CONFIG_INVALID');
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain('jobName');
    expect(error.message).toContain('/v2/models/stats');
  });

  it('is refused as the http section redisInputQueue too', () => {
    const error = failure('modelPath: ./model\nhttp:\n  redisInputQueue: stats\n');
    expect(error.code).toBe('CS_ERR_CONFIG_INVALID');
    expect(error.message).toContain('redisInputQueue');
  });

  it('leaves names that only contain it alone', () => {
    expect(load('modelPath: ./model\njobName: stats_v2\n').config.jobName).toBe('stats_v2');
  });
});
