import { accessSync, constants } from 'node:fs';
import { createConnection } from 'node:net';
import { delimiter, join } from 'node:path';
import { CsError, reasonOf } from '../errors/registry.js';
import { createRedis, redactUrl } from './connection.js';

/** Oldest Redis we run against: XAUTOCLAIM's final form and XADD's NOMKSTREAM arrived in 6.2. */
export const MIN_REDIS_VERSION: readonly [number, number] = [6, 2];

export function isLocalHost(host: string): boolean {
  return host === 'localhost' || host === '127.0.0.1' || host === '::1';
}

/**
 * What answers at an address:
 * - `absent`: nothing listens (connection refused);
 * - `redis`: a Redis server (it may still want a password);
 * - `other`: something listens and is not Redis, or does not answer in time.
 */
export type ProbeResult =
  | { readonly kind: 'absent' }
  | { readonly kind: 'redis'; readonly needsAuth: boolean }
  | { readonly kind: 'other'; readonly detail: string };

/** An inline `PING` on a raw socket: tells Redis from anything else without a client library's retries. */
export function probeAddress(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    let reply = '';
    const done = (result: ProbeResult): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () => done({ kind: 'other', detail: `no Redis answer within ${timeoutMs} ms` }),
      timeoutMs,
    );
    socket.setEncoding('latin1');
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED' || error.code === 'EADDRNOTAVAIL') done({ kind: 'absent' });
      else done({ kind: 'other', detail: error.code ?? error.message });
    });
    socket.on('close', () => done({ kind: 'other', detail: 'closed the connection without a Redis answer' }));
    socket.on('data', (chunk: string) => {
      reply += chunk;
      if (!reply.includes('\r\n')) {
        if (reply.length > 256) done({ kind: 'other', detail: 'answered something that is not Redis' });
        return;
      }
      if (reply.startsWith('+PONG')) done({ kind: 'redis', needsAuth: false });
      else if (/^-(NOAUTH|WRONGPASS|ERR AUTH)/.test(reply)) done({ kind: 'redis', needsAuth: true });
      else done({ kind: 'other', detail: `answered "${reply.split('\r\n')[0]?.slice(0, 60) ?? ''}"` });
    });
  });
}

/** Version of the Redis at `url` (INFO server), failing with CS_ERR_REDIS_VERSION below 6.2. */
export async function checkRedisVersion(url: string, timeoutMs: number, caFile?: string): Promise<string> {
  const redis = createRedis({ url, timeoutMs, caFile, role: 'producer', name: 'cluster-serving-supervisor' });
  let info: string;
  try {
    await redis.connect();
    info = await redis.info('server');
  } catch (error) {
    throw new CsError(
      'CS_ERR_REDIS_UNAVAILABLE',
      `cannot query Redis at ${redactUrl(url)}: ${reasonOf(error)}`,
      {
        cause: error,
      },
    );
  } finally {
    redis.disconnect();
  }
  const version = parseRedisVersion(info);
  if (version === undefined || !versionAtLeast(version, MIN_REDIS_VERSION)) {
    throw new CsError(
      'CS_ERR_REDIS_VERSION',
      `Redis at ${redactUrl(url)} is version ${version ?? 'unknown'}; cluster-serving needs Redis ${MIN_REDIS_VERSION.join('.')} or newer: upgrade it, or point redisUrl at a newer one`,
    );
  }
  return version;
}

export function parseRedisVersion(info: string): string | undefined {
  return /^redis_version:([0-9][^\r\n]*)/m.exec(info)?.[1]?.trim();
}

export function versionAtLeast(version: string, minimum: readonly [number, number]): boolean {
  const [major = 0, minor = 0] = version.split('.').map((part) => Number.parseInt(part, 10));
  if (Number.isNaN(major) || Number.isNaN(minor)) return false;
  return major > minimum[0] || (major === minimum[0] && minor >= minimum[1]);
}

/** The `redis-server` on PATH, or CS_ERR_REDIS_NOT_INSTALLED with how to install it. */
export function findRedisServer(env: NodeJS.ProcessEnv = process.env): string {
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  throw new CsError(
    'CS_ERR_REDIS_NOT_INSTALLED',
    'redis-server is not on PATH; install Redis 6.2 or newer (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis) or set redisUrl to a Redis that runs',
  );
}

export interface RedisServerOptions {
  readonly port: number;
  readonly maxmemory: string;
  /**
   * A config file redis-server reads first (it holds the password: see redisSecretConfig).
   * Secrets never go on the command line, which every local user can read in /proc.
   */
  readonly configFile?: string | undefined;
  /** Where to keep an append-only file; nothing is written to disk when undefined. */
  readonly dataDir?: string | undefined;
  /** Addresses to listen on besides 127.0.0.1 (redisUrl names one of this host's own). */
  readonly bind?: readonly string[];
}

/**
 * A Redis for one home: loopback only, refuses writes instead of evicting entries, and keeps
 * nothing on disk, or, given a dataDir, an append-only file there (fsync every second) that it
 * replays when started again.
 */
export function redisServerArgs(options: RedisServerOptions): string[] {
  return [
    // redis-server takes the config file as its first argument, then options that add to it.
    ...(options.configFile === undefined ? [] : [options.configFile]),
    '--port',
    String(options.port),
    '--bind',
    ['127.0.0.1', ...(options.bind ?? [])].join(' '),
    '--save',
    '',
    ...(options.dataDir === undefined
      ? ['--appendonly', 'no']
      : ['--appendonly', 'yes', '--appendfsync', 'everysec', '--dir', options.dataDir]),
    '--maxmemory',
    options.maxmemory,
    '--maxmemory-policy',
    'noeviction',
    '--daemonize',
    'no',
  ];
}

/**
 * The text of a redis-server config file setting `requirepass`. The value is quoted with
 * every byte outside printable ASCII (and `"` and `\`) written as \xHH, which Redis's
 * config parser reads back exactly, so no password can end the line or add a directive.
 */
export function redisSecretConfig(password: string): string {
  let quoted = '';
  for (const byte of Buffer.from(password, 'utf8')) {
    const printable = byte >= 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x5c;
    quoted += printable ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return `requirepass "${quoted}"\n`;
}
