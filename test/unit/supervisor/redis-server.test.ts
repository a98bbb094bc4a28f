import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkRedisVersion,
  findRedisServer,
  parseRedisVersion,
  probeAddress,
  redisSecretConfig,
  redisServerArgs,
  versionAtLeast,
} from '../../../src/redis/server.js';
import { redisTarget } from '../../../src/config/redis-url.js';
import { freePort, startRedis, type TestRedis } from '../../helpers/redis-server.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

describe('redis server helpers', () => {
  it('tells a Redis from a closed port', async () => {
    expect(await probeAddress('127.0.0.1', redis.port, 2000)).toEqual({ kind: 'redis', needsAuth: false });
    expect(await probeAddress('127.0.0.1', await freePort(), 2000)).toEqual({ kind: 'absent' });
  });

  it('reads the version of a real Redis and accepts it', async () => {
    const version = await checkRedisVersion(redis.url, 2000);
    expect(versionAtLeast(version, [6, 2])).toBe(true);
  });

  it('compares versions and refuses old or unreadable ones', () => {
    expect(parseRedisVersion('# Server\r\nredis_version:6.0.16\r\nredis_mode:standalone\r\n')).toBe('6.0.16');
    expect(parseRedisVersion('nothing here')).toBeUndefined();
    expect(versionAtLeast('6.2.0', [6, 2])).toBe(true);
    expect(versionAtLeast('7.0.15', [6, 2])).toBe(true);
    expect(versionAtLeast('6.0.16', [6, 2])).toBe(false);
    expect(versionAtLeast('5.9.9', [6, 2])).toBe(false);
    expect(versionAtLeast('garbage', [6, 2])).toBe(false);
  });

  it('parses redis URLs with passwords and TLS', () => {
    expect(redisTarget('redis://:s%40cret@localhost:7000')).toEqual({
      kind: 'server',
      host: 'localhost',
      port: 7000,
      password: 's@cret',
      tls: false,
    });
    expect(redisTarget('rediss://cache.example:6380')).toMatchObject({ host: 'cache.example', tls: true });
    expect(redisTarget('localhost')).toMatchObject({ port: 6379 });
    expect(() => redisTarget('redis://[bad')).toThrow(/redisUrl/);
  });

  it('finds redis-server on PATH, or says how to install it', () => {
    expect(findRedisServer(process.env)).toMatch(/redis-server$/);
    expect(() => findRedisServer({ PATH: '/nonexistent' })).toThrow(/apt-get install redis-server/);
  });

  it('quotes a password for the config file so that no character can end the directive', () => {
    expect(redisSecretConfig('pw')).toBe('requirepass "pw"\n');
    expect(redisSecretConfig('a"b\\c\nd é')).toBe('requirepass "a\\x22b\\x5cc\\x0ad \\xc3\\xa9"\n');
  });

  it('listens on an address of this host too only when given one', () => {
    const args = redisServerArgs({ port: 7001, maxmemory: '1g', bind: ['10.213.0.2'] });
    expect(args.join(' ')).toContain('--bind 127.0.0.1 10.213.0.2 --save');
  });

  it('builds a loopback, diskless, noeviction command line', () => {
    const args = redisServerArgs({ port: 7001, maxmemory: '1g', configFile: '/h/redis-7001.conf' });
    expect(args.join(' ')).toContain(
      '--bind 127.0.0.1 --save  --appendonly no --maxmemory 1g --maxmemory-policy noeviction',
    );
    // The password is in the config file, which redis-server takes as its first argument.
    expect(args[0]).toBe('/h/redis-7001.conf');
    expect(args).not.toContain('--requirepass');
    // With a data directory (redisPersistence): an append-only file there, still no snapshots.
    const kept = redisServerArgs({
      port: 7001,
      maxmemory: '1g',
      dataDir: '/h/redis-7001',
    });
    expect(kept.join(' ')).toContain(
      '--save  --appendonly yes --appendfsync everysec --dir /h/redis-7001 --maxmemory 1g',
    );
  });
});
