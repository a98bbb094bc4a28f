/** Where a client finds Redis: a URL, or BigDL's host/port. */
export interface RedisLocation {
  readonly redisUrl?: string;
  readonly host?: string;
  readonly port?: number;
  readonly password?: string;
  /** PEM CA file for rediss:// */
  readonly caFile?: string;
}

export function redisUrlOf(location: RedisLocation): string {
  if (location.redisUrl !== undefined) {
    return location.redisUrl.includes('://') ? location.redisUrl : `redis://${location.redisUrl}`;
  }
  const auth = location.password === undefined ? '' : `:${encodeURIComponent(location.password)}@`;
  return `redis://${auth}${location.host ?? 'localhost'}:${location.port ?? 6379}`;
}
