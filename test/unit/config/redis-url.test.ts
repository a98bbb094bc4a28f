import { describe, expect, it } from 'vitest';
import { normaliseRedisUrl, redisEndpoint, redisTarget, withTls } from '../../../src/config/redis-url.js';
import { CsError } from '../../../src/errors/registry.js';

describe('normaliseRedisUrl', () => {
  it.each([
    ['localhost:6379', 'redis://localhost:6379'],
    ['  10.0.0.5:7000  ', 'redis://10.0.0.5:7000'],
    ['redis-host', 'redis://redis-host:6379'],
    ['redis://localhost:6379', 'redis://localhost:6379'],
    ['redis://cache', 'redis://cache:6379'],
    ['redis://:s3cret@cache:6380/2', 'redis://:s3cret@cache:6380/2'],
    ['rediss://user:pw@secure.example.com:6380', 'rediss://user:pw@secure.example.com:6380'],
    ['REDISS://cache:1', 'rediss://cache:1'],
    ['[::1]:6379', 'redis://[::1]:6379'],
    [
      'redis-sentinel://s1,s2:26380,10.0.0.3/mymaster',
      'redis-sentinel://s1:26379,s2:26380,10.0.0.3:26379/mymaster',
    ],
    ['REDIS-SENTINEL://:p%40ss@s1:1/m.1', 'redis-sentinel://:p%40ss@s1:1/m.1'],
  ])('%s → %s', (given, expected) => {
    expect(normaliseRedisUrl(given)).toBe(expected);
  });

  it.each([
    '',
    '   ',
    'http://cache:6379',
    'redis://',
    'cache:99999',
    'cache:port',
    'redis://cache:6379/db',
    'a b:1',
    'redis-sentinel://s1:26379',
    'redis-sentinel://s1:26379/',
    'redis-sentinel://s1:26379,/master',
    'redis-sentinel://s1:99999/master',
    'redis-sentinel://user:pw@s1/master',
    'redis-sentinel://s1/master/extra',
    'redis-sentinel://s1/bad:name',
  ])('refuses %j with CS_ERR_CONFIG_INVALID and the expected form', (given) => {
    let caught: unknown;
    try {
      normaliseRedisUrl(given);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CsError);
    expect((caught as CsError).code).toBe('CS_ERR_CONFIG_INVALID');
    expect((caught as CsError).message).toContain('redisUrl: expected host:port or redis://');
  });

  it('never echoes a password in its error', () => {
    expect(() => normaliseRedisUrl('http://:hunter2@cache:6379')).toThrow(/got "http:\/\/\*\*\*@cache:6379"/);
    expect(() => normaliseRedisUrl('http://:hunter2@cache:6379')).not.toThrow(/hunter2/);
  });
});

describe('redisEndpoint and withTls', () => {
  it('splits a normalised URL into host, port and TLS', () => {
    expect(redisEndpoint('redis://cache:6380')).toEqual({ host: 'cache', port: 6380, tls: false });
    expect(redisEndpoint('rediss://:pw@[::1]:6379/1')).toEqual({ host: '::1', port: 6379, tls: true });
  });

  it('switches redis:// to rediss:// and keeps everything else', () => {
    expect(withTls('redis://:pw@cache:6379/3')).toBe('rediss://:pw@cache:6379/3');
    expect(withTls('rediss://cache:6379')).toBe('rediss://cache:6379');
  });
});

describe('redisTarget', () => {
  it('reads a Sentinel URL into its Sentinels, master name and password', () => {
    expect(redisTarget(normaliseRedisUrl('redis-sentinel://:s%40cret@h1:26379,[::1]:26380/primary'))).toEqual(
      {
        kind: 'sentinel',
        sentinels: [
          { host: 'h1', port: 26379 },
          { host: '::1', port: 26380 },
        ],
        masterName: 'primary',
        password: 's@cret',
      },
    );
    expect(redisEndpoint('redis-sentinel://h1:26379,h2:26379/primary')).toEqual({
      host: 'h1',
      port: 26379,
      tls: false,
    });
  });
});
