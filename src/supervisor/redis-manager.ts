import { mkdirSync, rmSync } from 'node:fs';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CsError } from '../errors/registry.js';
import { pinProcess } from '../placement/affinity.js';
import { formatCpuList } from '../placement/cpu-plan.js';
import type { Logger } from '../logging/logger.js';
import { redactUrl } from '../redis/connection.js';
import { redisTarget, type RedisTarget } from '../config/redis-url.js';
import { isOwnAddress } from '../redis/own-address.js';
import {
  checkRedisVersion,
  findRedisServer,
  isLocalHost,
  probeAddress,
  redisSecretConfig,
  redisServerArgs,
} from '../redis/server.js';
import type { RedisRecord } from './job-record.js';
import { redisDataDir, redisSecretFile } from './home.js';
import { tailLines } from './log-tail.js';
import { ManagedChild } from './managed-child.js';
import { REDIS_RESTART_POLICY, RestartPolicy, type RestartPolicyOptions } from './restart-policy.js';

export interface RedisRequirement {
  readonly url: string;
  readonly maxmemory: string;
  /** Keep an append-only file (config key redisPersistence) when this starts the server. */
  readonly persistence?: boolean;
  /** Where a server started for this job runs: the job's plumbing CPUs (src/placement/cpu-plan.ts). */
  readonly cpus?: readonly number[] | undefined;
  readonly timeoutMs: number;
  readonly caFile: string | undefined;
}

export interface RedisInUse {
  readonly url: string;
  /** True when this home started it (and `shutdown` will stop it). */
  readonly managed: boolean;
  /** True when this call started the server (a failed start then stops it again). */
  readonly startedNow: boolean;
  readonly version: string;
}

export interface StoppedRedis {
  readonly urls: string[];
  /** The append-only file directories left in place. */
  readonly keptData: string[];
}

interface ManagedRedis {
  readonly port: number;
  readonly cpus: readonly number[] | undefined;
  /** Its append-only file's directory, when it keeps one. */
  readonly dataDir: string | undefined;
  /** The directory held a file from an earlier server: never removed by a failed start. */
  readonly replayed: boolean;
  readonly url: string;
  readonly maxmemory: string;
  readonly password: string | undefined;
  /** Addresses it listens on besides 127.0.0.1 (one of this host's own, when asked for). */
  readonly bind: readonly string[];
  readonly logFile: string;
  readonly policy: RestartPolicy;
  child: ManagedChild | undefined;
  stopping: boolean;
  timer: NodeJS.Timeout | undefined;
  /** `running` once launched; `restarting` from its exit until a new one runs. */
  state: ManagedRedisState;
  restarts: number;
}

export type ManagedRedisState = 'running' | 'restarting';

/** What `list` shows of a managed server. */
export interface ManagedRedisStatus {
  readonly state: ManagedRedisState;
  readonly restarts: number;
}

const READY_TIMEOUT_MS = 15_000;

/** Finds or starts the Redis each job needs; one managed redis-server per home and port. */
export class RedisManager {
  private readonly servers = new Map<number, ManagedRedis>();
  private readonly pending = new Map<number, Promise<RedisInUse>>();

  constructor(
    private readonly logsDir: string,
    private readonly logger: Logger,
    private readonly onChange: () => void,
    /** Where servers that keep an append-only file keep it: `<dataRoot>/redis-<port>`. */
    private readonly dataRoot: string,
    private readonly restartPolicy: RestartPolicyOptions = REDIS_RESTART_POLICY,
  ) {}

  /** The state of the server this home runs for `url`; undefined when it runs none there. */
  status(url: string): ManagedRedisStatus | undefined {
    const endpoint = redisTarget(url);
    if (endpoint.kind === 'sentinel' || !startableHere(endpoint.host)) return undefined;
    const server = this.servers.get(endpoint.port);
    return server === undefined ? undefined : { state: server.state, restarts: server.restarts };
  }

  /** Serialised per port, so two jobs starting together do not both spawn a server. */
  async ensure(requirement: RedisRequirement): Promise<RedisInUse> {
    const target = redisTarget(requirement.url);
    if (target.kind === 'sentinel') {
      // Sentinel names a replicated Redis someone else runs; we only check that it answers.
      return {
        url: requirement.url,
        managed: false,
        startedNow: false,
        version: await this.version(requirement),
      };
    }
    const { port } = target;
    const running = this.pending.get(port);
    if (running !== undefined) await running.catch(() => undefined);
    const attempt = this.ensureNow(requirement);
    this.pending.set(port, attempt);
    try {
      return await attempt;
    } finally {
      if (this.pending.get(port) === attempt) this.pending.delete(port);
    }
  }

  isManaged(url: string): boolean {
    const target = redisTarget(url);
    return target.kind === 'server' && startableHere(target.host) && this.servers.has(target.port);
  }

  records(): RedisRecord[] {
    return [...this.servers.values()].map((server) => ({
      port: server.port,
      url: server.url,
      pid: server.child?.pid ?? null,
      startTime: server.child?.startTime ?? null,
      logFile: server.logFile,
      state: server.state,
      restarts: server.restarts,
    }));
  }

  /** Stops every server this home started; their append-only files go too unless `keepData`. */
  async stopAll(keepData: boolean): Promise<StoppedRedis> {
    const urls: string[] = [];
    const keptData: string[] = [];
    await Promise.all(
      [...this.servers.values()].map(async (server) => {
        server.stopping = true;
        clearTimeout(server.timer);
        await this.retire(server, keepData);
        urls.push(redactUrl(server.url));
        if (keepData && server.dataDir !== undefined) keptData.push(server.dataDir);
      }),
    );
    this.servers.clear();
    this.onChange();
    return { urls, keptData };
  }

  /**
   * Stops the server this home runs on `port`, if any, after a failed start: what it kept is
   * removed, unless it replayed a file an earlier server left (entries queued before this start).
   */
  async stop(port: number): Promise<void> {
    const server = this.servers.get(port);
    if (server === undefined) return;
    server.stopping = true;
    clearTimeout(server.timer);
    this.servers.delete(port);
    await this.retire(server, server.replayed);
    this.onChange();
    this.logger.info({ port }, 'stopped redis-server');
  }

  private async ensureNow(requirement: RedisRequirement): Promise<RedisInUse> {
    const endpoint = redisTarget(requirement.url);
    if (endpoint.kind !== 'server') throw new Error('ensureNow takes the URL of one server');
    const local = startableHere(endpoint.host);
    const shown = redactUrl(requirement.url);
    const ours = local ? this.servers.get(endpoint.port) : undefined;
    if (ours !== undefined) {
      await this.waitAnswering(ours, READY_TIMEOUT_MS);
      return {
        url: requirement.url,
        managed: true,
        startedNow: false,
        version: await this.version(requirement),
      };
    }
    if (endpoint.tls) {
      // We never start a TLS Redis; one must already answer there.
      return {
        url: requirement.url,
        managed: false,
        startedNow: false,
        version: await this.version(requirement),
      };
    }
    const probe = await probeAddress(endpoint.host, endpoint.port, Math.min(requirement.timeoutMs, 3000));
    if (probe.kind === 'redis') {
      return {
        url: requirement.url,
        managed: false,
        startedNow: false,
        version: await this.version(requirement),
      };
    }
    if (probe.kind === 'other' && local) {
      throw new CsError(
        'CS_ERR_PORT_IN_USE',
        `port ${endpoint.port} on ${endpoint.host} is taken by something that is not Redis (${probe.detail}); stop that program, or set redisUrl to a free port or to a running Redis`,
      );
    }
    if (!local) {
      const detail = probe.kind === 'other' ? ` (${probe.detail})` : '';
      throw new CsError(
        'CS_ERR_REDIS_UNAVAILABLE',
        `no Redis answers at ${shown}${detail}; start Redis there, or fix redisUrl (cluster-serving starts Redis itself only on localhost or on an address of this host)`,
      );
    }
    const dataDir = requirement.persistence === true ? this.dataDirOf(endpoint.port) : undefined;
    const bind = isLocalHost(endpoint.host) ? [] : [endpoint.host];
    if (bind.length > 0) assertPassword(endpoint, shown);
    const server: ManagedRedis = {
      port: endpoint.port,
      cpus: requirement.cpus,
      dataDir,
      replayed: dataDir !== undefined && (await readdir(dataDir).catch(() => [])).length > 0,
      url: requirement.url,
      maxmemory: requirement.maxmemory,
      password: endpoint.password,
      bind,
      logFile: join(this.logsDir, `redis-${endpoint.port}.log`),
      policy: new RestartPolicy(this.restartPolicy),
      child: undefined,
      stopping: false,
      timer: undefined,
      state: 'running',
      restarts: 0,
    };
    if (server.dataDir !== undefined) {
      // A file kept by an earlier server on this port (one that crashed, or whose supervisor
      // died) is replayed: what it held is served again.
      mkdirSync(server.dataDir, { recursive: true, mode: 0o700 });
    } else {
      // Nothing on disk unless asked for: a file left by an earlier persistent server goes.
      rmSync(this.dataDirOf(server.port), { recursive: true, force: true });
    }
    await this.launch(server);
    try {
      await this.waitAnswering(server, READY_TIMEOUT_MS);
      const version = await this.version(requirement);
      this.servers.set(server.port, server);
      this.onChange();
      this.logger.info({ port: server.port, pid: server.child?.pid, version }, 'started redis-server');
      return { url: requirement.url, managed: true, startedNow: true, version };
    } catch (error) {
      server.stopping = true;
      await server.child?.terminate(3000);
      await rm(this.secretFileOf(server.port), { force: true });
      throw error;
    }
  }

  private dataDirOf(port: number): string {
    return redisDataDir(this.dataRoot, port);
  }

  /** Stops a server and removes what it kept on disk unless `keepData`: `shutdown` leaves no data behind. */
  private async retire(server: ManagedRedis, keepData: boolean): Promise<void> {
    await server.child?.terminate(5000);
    await rm(this.secretFileOf(server.port), { force: true });
    if (server.dataDir !== undefined && !keepData) await rm(server.dataDir, { recursive: true, force: true });
  }

  /** Its password, in a file only this user can read: never on the command line. */
  private secretFileOf(port: number): string {
    return redisSecretFile(this.dataRoot, port);
  }

  private async launch(server: ManagedRedis): Promise<void> {
    const binary = findRedisServer();
    let configFile: string | undefined;
    if (server.password !== undefined) {
      configFile = this.secretFileOf(server.port);
      // Removed first: `mode` applies only when the file is created.
      await rm(configFile, { force: true });
      await writeFile(configFile, redisSecretConfig(server.password), { mode: 0o600, flag: 'wx' });
    }
    const child = await ManagedChild.spawn({
      command: binary,
      args: redisServerArgs({
        port: server.port,
        maxmemory: server.maxmemory,
        configFile,
        dataDir: server.dataDir,
        bind: server.bind,
      }),
      logFile: server.logFile,
      ipc: false,
    });
    server.child = child;
    if (server.cpus !== undefined) {
      const cpus = formatCpuList(server.cpus);
      const reason = pinProcess(child.pid, server.cpus);
      if (reason === undefined)
        this.logger.info({ port: server.port, cpus }, 'redis-server kept on the plumbing CPUs');
      else
        this.logger.warn({ port: server.port, reason }, 'cpuAffinity auto: redis-server left on every CPU');
    }
    void child.exited.then((exit) => {
      if (server.stopping || server.child !== child) return;
      this.logger.error({ port: server.port, ...exit }, 'managed redis-server exited');
      this.restartLater(server);
    });
  }

  /**
   * Forever, with a capped backoff: entries wait in it and workers retry until it is back,
   * so giving up would only leave the job stuck until a `shutdown` that deletes its data.
   */
  private restartLater(server: ManagedRedis): void {
    server.state = 'restarting';
    this.onChange();
    const delayMs = server.policy.onCrash();
    this.logger.warn({ port: server.port, delayMs, restarts: server.restarts }, 'restarting redis-server');
    server.timer = setTimeout(() => {
      if (server.stopping) return;
      this.launch(server).then(
        () => {
          server.restarts += 1;
          server.state = 'running';
          this.onChange();
        },
        (error: unknown) => {
          this.logger.error({ err: error, port: server.port }, 'cannot restart redis-server');
          if (!server.stopping) this.restartLater(server);
        },
      );
    }, delayMs);
  }

  private async waitAnswering(server: ManagedRedis, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const child = server.child;
      if (child !== undefined && !child.running && this.servers.get(server.port) !== server) {
        const tail = await tailLines(server.logFile, 3);
        throw new CsError(
          'CS_ERR_REDIS_UNAVAILABLE',
          `redis-server on port ${server.port} exited at start: ${tail.join(' | ') || 'no output'}`,
        );
      }
      const probe = await probeAddress('127.0.0.1', server.port, 1000);
      if (probe.kind === 'redis') return;
      if (Date.now() > deadline) {
        throw new CsError(
          'CS_ERR_REDIS_UNAVAILABLE',
          `redis-server on port ${server.port} did not answer within ${timeoutMs} ms`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  private version(requirement: RedisRequirement): Promise<string> {
    return checkRedisVersion(requirement.url, requirement.timeoutMs, requirement.caFile);
  }
}

/** Loopback, or one of this host's own addresses (then the server also serves other hosts). */
function startableHere(host: string): boolean {
  return isLocalHost(host) || isOwnAddress(host);
}

/** A Redis reachable from other hosts without a password would take anyone's commands. */
function assertPassword(target: RedisTarget & { kind: 'server' }, shown: string): void {
  if (target.password !== undefined && target.password !== '') return;
  throw new CsError(
    'CS_ERR_CONFIG_REDIS_PASSWORD',
    `redisUrl ${shown} names an address of this host that other hosts reach, so the Redis cluster-serving starts there needs a password: write redisUrl as redis://:<password>@${target.host}:${target.port}, or use localhost to keep Redis to this host`,
  );
}
