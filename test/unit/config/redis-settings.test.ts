import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/config/load.js';
import type { LoadedConfig } from '../../../src/config/types.js';
import { CsError } from '../../../src/errors/registry.js';
import { TempDirs } from './temp-model.js';

const temp = new TempDirs();
afterAll(() => temp.cleanup());
const modelDir = temp.make({
  'model.onnx': Buffer.from([0x08, 0x07]),
  'tls/ca.pem': '-----BEGIN CERTIFICATE-----\n',
});

function resolveWith(raw: Record<string, unknown>, redisUrl?: string): LoadedConfig {
  return resolveConfig({ modelPath: modelDir, ...raw }, modelDir, redisUrl === undefined ? {} : { redisUrl });
}

function messageOf(raw: Record<string, unknown>, redisUrl?: string): string {
  try {
    resolveWith(raw, redisUrl);
  } catch (error) {
    if (error instanceof CsError) return error.message;
    throw error;
  }
  throw new Error('the config was accepted');
}

describe('Redis settings', () => {
  it('lets the redisUrl option (worker --redis) win over the file, and the frontend inherits it', () => {
    const { config } = resolveWith({ redisUrl: 'cache:7000', http: null }, 'redis://:pw@remote:6380');
    expect(config.redisUrl).toBe('redis://:pw@remote:6380');
    expect(config.http?.redisUrl).toBe('redis://:pw@remote:6380');
  });

  it('reports an invalid redisUrl option without echoing its password', () => {
    const message = messageOf({}, 'http://:hunter2@remote');
    expect(message).toContain('redis URL given on the command line: expected host:port or redis://');
    expect(message).not.toContain('hunter2');
  });

  it('turns TLS on for redisSecureEnabled, in the URL too', () => {
    const { config } = resolveWith({ redisUrl: 'cache:6380', redisSecureEnabled: true });
    expect(config.redisSecureEnabled).toBe(true);
    expect(config.redisUrl).toBe('rediss://cache:6380');
  });

  it('turns redisSecureEnabled on for a rediss:// URL', () => {
    const { config } = resolveWith({ redisUrl: 'rediss://cache:6380' });
    expect(config.redisSecureEnabled).toBe(true);
    expect(config.redisUrl).toBe('rediss://cache:6380');
  });

  it('resolves the trust store path against the base directory', () => {
    const { config, warnings } = resolveWith({
      redisSecureEnabled: 'true',
      redisSecureTrustStorePath: 'tls/ca.pem',
    });
    expect(config.redisSecureTrustStorePath).toBe(join(modelDir, 'tls/ca.pem'));
    expect(warnings).toEqual([]);
  });

  it('refuses a trust store path with no file there', () => {
    expect(messageOf({ redisSecureEnabled: true, redisSecureTrustStorePath: 'tls/missing.pem' })).toContain(
      `redisSecureTrustStorePath: expected a PEM CA file, got "tls/missing.pem" (no file at ${join(modelDir, 'tls/missing.pem')})`,
    );
  });

  it('warns that a trust store is unused while TLS is off', () => {
    const { warnings } = resolveWith({ redisSecureTrustStorePath: 'tls/ca.pem' });
    expect(warnings).toEqual([
      'redisSecureTrustStorePath is not used: TLS is off (set redisSecureEnabled: true or use rediss://)',
    ]);
  });
});
