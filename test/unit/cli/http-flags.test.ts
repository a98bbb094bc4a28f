import { describe, expect, it } from 'vitest';
import { parseFrontendFlags } from '../../../src/cli/commands/http.js';

describe('cluster-serving http flags', () => {
  it('reads --name value, --name=value and bare flags with their types', () => {
    expect(
      parseFrontendFlags([
        '--port',
        '10020',
        '--redisHost=cache',
        '--tokenBucketEnabled',
        '--interface',
        '127.0.0.1',
      ]),
    ).toEqual({
      port: 10020,
      redisHost: 'cache',
      tokenBucketEnabled: true,
      interface: '127.0.0.1',
    });
    expect(parseFrontendFlags(['--tokenBucketEnabled=false'])).toEqual({ tokenBucketEnabled: false });
  });

  it('refuses arguments that are not flags', () => {
    expect(() => parseFrontendFlags(['10020'])).toThrow(/unexpected argument "10020"/);
    expect(() => parseFrontendFlags(['--'])).toThrow(/unexpected argument/);
  });
});
