import { chmodSync, fchmodSync, mkdirSync, openSync } from 'node:fs';
import { homedir } from 'node:os';
import { CsError } from '../errors/registry.js';
import { dirname, join, resolve } from 'node:path';

/** Every file the supervisor of one home uses; one supervisor per home, so homes never collide. */
export interface HomePaths {
  readonly home: string;
  /** JSON-lines control socket; its file permissions are the access control. */
  readonly socket: string;
  readonly pidFile: string;
  readonly stateFile: string;
  readonly logsDir: string;
}

/** `$CLUSTER_SERVING_HOME`, else `~/.cluster-serving`. */
export function resolveHome(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['CLUSTER_SERVING_HOME'];
  return resolve(fromEnv !== undefined && fromEnv !== '' ? fromEnv : join(homedir(), '.cluster-serving'));
}

export function homePaths(home: string): HomePaths {
  return {
    home,
    socket: join(home, 'supervisor.sock'),
    pidFile: join(home, 'supervisor.pid'),
    stateFile: join(home, 'state.json'),
    logsDir: join(home, 'logs'),
  };
}

/** A managed Redis's append-only file directory (redisPersistence). */
export function redisDataDir(home: string, port: number): string {
  return join(home, `redis-${port}`);
}

/** A managed Redis's config file holding its password (0600, only while it runs). */
export function redisSecretFile(home: string, port: number): string {
  return join(home, `redis-${port}.conf`);
}

/** The built file a process entry runs, relative to this module once compiled into dist/supervisor/. */
export function entryFile(entry: 'supervisor' | 'worker' | 'frontend'): string {
  return new URL(`../${entry}/main.js`, import.meta.url).pathname;
}

/** Unix socket paths are limited to ~107 bytes (104 on macOS); a deep home must fail clearly. */
const MAX_SOCKET_PATH_BYTES = 100;

export function assertSocketPathFits(paths: HomePaths): void {
  if (Buffer.byteLength(paths.socket) <= MAX_SOCKET_PATH_BYTES) return;
  throw new CsError(
    'CS_ERR_CLI_USAGE',
    `the home directory ${paths.home} is too deep for its control socket (${Buffer.byteLength(paths.socket)} bytes, at most ${MAX_SOCKET_PATH_BYTES}); set CLUSTER_SERVING_HOME to a shorter path`,
  );
}

/**
 * Logs hold model paths, request errors and Redis addresses: only the user may read the home.
 * Creates the home and its logs directory 0700, and narrows them when an older version left
 * them 0755 (the home is cluster-serving's own directory, never a shared one).
 */
export function prepareHome(paths: HomePaths): void {
  for (const dir of [paths.home, paths.logsDir]) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
  }
}

/** Opens a log file of the home for appending, readable by its user only (0600, also when it existed). */
export function openPrivateLog(file: string): number {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const fd = openSync(file, 'a', 0o600);
  fchmodSync(fd, 0o600);
  return fd;
}
