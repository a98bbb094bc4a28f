import { CsError } from '../errors/registry.js';
import { describeValue, type Parsed } from './value-parsers.js';

const EXPECTED = 'host:port or redis://[:password@]host:port (rediss:// for TLS)';
const DEFAULT_PORT = '6379';

/**
 * BigDL wrote `host:port`; ioredis and our processes want a URL. A missing scheme means
 * `redis://`, a missing port means 6379 (written out, so two spellings of the same server
 * compare equal). Passwords, a `/db` index and query options are kept as given.
 */
export function parseRedisUrl(value: unknown): Parsed<string> {
  if (typeof value !== 'string' || value.trim() === '') return { ok: false, expected: EXPECTED };
  const trimmed = value.trim();
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

/** `localhost:6379` → `redis://localhost:6379`; keeps `redis://`, `rediss://` and passwords. */
export function normaliseRedisUrl(value: string): string {
  const parsed = parseRedisUrl(value);
  if (parsed.ok) return parsed.value;
  throw new CsError(
    'CS_ERR_CONFIG_INVALID',
    `redisUrl: expected ${parsed.expected}, got ${describeValue(value)}`,
  );
}

export interface RedisEndpoint {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
}

/** Host, port and TLS of a URL that `normaliseRedisUrl` produced. */
export function redisEndpoint(normalisedUrl: string): RedisEndpoint {
  const url = new URL(normalisedUrl);
  // URL keeps IPv6 hosts bracketed; a host name for a socket has no brackets.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(url.port === '' ? DEFAULT_PORT : url.port), tls: url.protocol === 'rediss:' };
}

/** The same server over TLS: BigDL's `redisSecureEnabled: true` with a `host:port` URL. */
export function withTls(normalisedUrl: string): string {
  const url = new URL(normalisedUrl);
  return url.protocol === 'rediss:' ? normalisedUrl : `rediss:${normalisedUrl.slice('redis:'.length)}`;
}
