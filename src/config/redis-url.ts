import { CsError } from '../errors/registry.js';
import { describeValue, type Parsed } from './value-parsers.js';

const EXPECTED =
  'host:port or redis://[:password@]host:port (rediss:// for TLS), or redis-sentinel://[:password@]host:port,host:port/<masterName>';
const DEFAULT_PORT = '6379';
const SENTINEL_SCHEME = 'redis-sentinel:';
const DEFAULT_SENTINEL_PORT = 26379;
const MASTER_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * The ONE parser of Redis URLs (config, CLI flags, frontend options, the supervisor).
 * BigDL wrote `host:port`; ioredis and our processes want a URL. A missing scheme means
 * `redis://`, a missing port means 6379 (26379 for a Sentinel), written out so two spellings
 * of the same server compare equal. Passwords, a `/db` index and query options are kept.
 */
export function parseRedisUrl(value: unknown): Parsed<string> {
  if (typeof value !== 'string' || value.trim() === '') return { ok: false, expected: EXPECTED };
  const trimmed = value.trim();
  if (/^redis-sentinel:\/\//i.test(trimmed)) {
    const target = parseSentinel(trimmed);
    return target === undefined
      ? { ok: false, expected: EXPECTED }
      : { ok: true, value: sentinelUrl(target) };
  }
  const withScheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(trimmed) ? trimmed : `redis://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return { ok: false, expected: EXPECTED };
  }
  const schemeOk = url.protocol === 'redis:' || url.protocol === 'rediss:';
  const dbOk = url.pathname === '' || url.pathname === '/' || /^\/\d+$/.test(url.pathname);
  if (!schemeOk || url.hostname === '' || !dbOk) return { ok: false, expected: EXPECTED };
  if (url.port === '') url.port = DEFAULT_PORT;
  return { ok: true, value: url.toString() };
}

/** BigDL's frontend flags redisHost/redisPort as a URL; an IPv6 address takes brackets. */
export function redisUrlOf(host: string, port: number): string {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  return `redis://${bare.includes(':') ? `[${bare}]` : bare}:${port}`;
}

/** `localhost:6379` → `redis://localhost:6379`; keeps `redis://`, `rediss://`, Sentinel URLs and passwords. */
export function normaliseRedisUrl(value: string): string {
  const parsed = parseRedisUrl(value);
  if (parsed.ok) return parsed.value;
  throw new CsError(
    'CS_ERR_CONFIG_INVALID',
    `redisUrl: expected ${parsed.expected}, got ${describeValue(value)}`,
  );
}

export interface RedisAddress {
  readonly host: string;
  readonly port: number;
}

export interface RedisEndpoint extends RedisAddress {
  readonly tls: boolean;
}

/** What a normalised URL names: one server, or a master found through Sentinels. */
export type RedisTarget =
  | {
      readonly kind: 'server';
      readonly host: string;
      readonly port: number;
      readonly password: string | undefined;
      readonly tls: boolean;
    }
  | {
      readonly kind: 'sentinel';
      readonly sentinels: readonly RedisAddress[];
      readonly masterName: string;
      /** The master's (and its replicas') password; the Sentinels themselves take none. */
      readonly password: string | undefined;
    };

export function redisTarget(normalisedUrl: string): RedisTarget {
  if (isSentinelUrl(normalisedUrl)) {
    const target = parseSentinel(normalisedUrl);
    if (target === undefined) throw invalid(normalisedUrl);
    return target;
  }
  let url: URL;
  try {
    url = new URL(normalisedUrl.includes('://') ? normalisedUrl : `redis://${normalisedUrl}`);
  } catch {
    throw invalid(normalisedUrl);
  }
  return {
    kind: 'server',
    // URL keeps IPv6 hosts bracketed; a host name for a socket has no brackets.
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: Number(url.port === '' ? DEFAULT_PORT : url.port),
    password: url.password === '' ? undefined : decodeURIComponent(url.password),
    tls: url.protocol === 'rediss:',
  };
}

export function isSentinelUrl(url: string): boolean {
  return url.toLowerCase().startsWith(`${SENTINEL_SCHEME}//`);
}

/**
 * Host, port and TLS of a URL that `normaliseRedisUrl` produced; for a Sentinel URL, the
 * first Sentinel (what BigDL's redisHost/redisPort options can show of it).
 */
export function redisEndpoint(normalisedUrl: string): RedisEndpoint {
  const target = redisTarget(normalisedUrl);
  if (target.kind === 'server') return { host: target.host, port: target.port, tls: target.tls };
  const first = target.sentinels[0] ?? { host: 'localhost', port: DEFAULT_SENTINEL_PORT };
  return { host: first.host, port: first.port, tls: false };
}

/** The same server over TLS: BigDL's `redisSecureEnabled: true` with a `host:port` URL. */
export function withTls(normalisedUrl: string): string {
  const url = new URL(normalisedUrl);
  return url.protocol === 'rediss:' ? normalisedUrl : `rediss:${normalisedUrl.slice('redis:'.length)}`;
}

function parseSentinel(text: string): (RedisTarget & { kind: 'sentinel' }) | undefined {
  const match = /^redis-sentinel:\/\/(?:([^@/]*)@)?([^/]+)\/([^/?#]+)\/?$/i.exec(text);
  if (match === null) return undefined;
  const [, auth, hostList = '', masterName = ''] = match;
  if (!MASTER_NAME.test(masterName)) return undefined;
  let password: string | undefined;
  if (auth !== undefined) {
    // Only `:password@`: Sentinel-managed servers take a password, not a user name here.
    if (!auth.startsWith(':') || auth.length < 2) return undefined;
    try {
      password = decodeURIComponent(auth.slice(1));
    } catch {
      return undefined;
    }
  }
  const sentinels: RedisAddress[] = [];
  for (const part of hostList.split(',')) {
    const address = parseAddress(part.trim());
    if (address === undefined) return undefined;
    sentinels.push(address);
  }
  return { kind: 'sentinel', sentinels, masterName, password };
}

function parseAddress(text: string): RedisAddress | undefined {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(?::(\d{1,5}))?$/.exec(text);
  if (match === null) return undefined;
  const port = match[2] === undefined ? DEFAULT_SENTINEL_PORT : Number(match[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: (match[1] ?? '').replace(/^\[(.*)\]$/, '$1'), port };
}

function sentinelUrl(target: RedisTarget & { kind: 'sentinel' }): string {
  const auth = target.password === undefined ? '' : `:${encodeURIComponent(target.password)}@`;
  const hosts = target.sentinels
    .map((s) => `${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}`)
    .join(',');
  return `redis-sentinel://${auth}${hosts}/${target.masterName}`;
}

function invalid(url: string): CsError {
  return new CsError('CS_ERR_CONFIG_INVALID', `redisUrl: expected ${EXPECTED}, got ${describeValue(url)}`);
}
