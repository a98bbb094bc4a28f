import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { loadConfig } from '../config/load.js';
import type { ServingConfig } from '../config/types.js';
import { redisEndpoint } from '../config/redis-url.js';
import { CsError } from '../errors/registry.js';
import type { Logger } from '../logging/logger.js';
import { plumbingCpus } from '../placement/affinity.js';
import { connectRedis, createRedis, redactUrl } from '../redis/connection.js';
import { lastGeneratedId } from '../redis/stream-tail.js';
import { readQueueState } from '../redis/job-state.js';
import { readSlots, sampleQueue, type Slot } from '../redis/stats-schema.js';
import { jobDetail, type JobDetail } from './job-detail.js';
import type { RequestContext } from './control-server.js';
import { prepareHome, type HomePaths } from './home.js';
import { isActive, type JobRecord, type ListedJob } from './job-record.js';
import { describeJob } from './job-view.js';
import { Job, type ProcessEntries } from './job.js';
import { HostControl, type HostCommand } from './host-control.js';
import type { AllHostsResult, ClearResult, ControlRequest, ShutdownResult } from './protocol.js';
import { RedisManager, type RedisInUse, type StoppedRedis } from './redis-manager.js';
import type { JobHealthOptions, RestartPolicyOptions } from './restart-policy.js';
import { readState, reapOrphans, writeState, type Identity } from './state-store.js';

/** How long `cancel --all-hosts` waits for the other hosts' workers to go. */
const CANCEL_WAIT_MS = 10_000;
/** Beyond the drain timeout: the other hosts' stop, plus heartbeats that expire (3 s). */
const HEARTBEAT_GRACE_MS = 10_000;

/** Finished jobs kept for `list --all`. */
const HISTORY_LIMIT = 50;

export interface SupervisorOptions {
  readonly paths: HomePaths;
  readonly logger: Logger;
  /** How this process is recognised in a later `shutdown` (pid + start time + command-line marker). */
  readonly identity: Identity;
  readonly restartPolicy?: RestartPolicyOptions;
  readonly redisRestartPolicy?: RestartPolicyOptions;
  readonly jobHealth?: JobHealthOptions;
  readonly entries?: ProcessEntries;
}

/**
 * Owns the jobs and the managed Redis servers of one home. Lifecycle: `open()` (reap what a
 * previous supervisor left, load history), requests via `handle()`, `shutdown()` once.
 */
export class Supervisor {
  private readonly jobs: Job[] = [];
  private history: JobRecord[] = [];
  private readonly redis: RedisManager;
  private readonly connections = new Map<string, Redis>();
  /** Configs as loaded, of the running jobs and those in the history (the dashboard's job page). */
  private readonly configs = new Map<string, ServingConfig>();
  private closing = false;
  private readonly control: HostControl;
  /** Where this home's dashboard is served, when it is; `start` tells it. */
  dashboardUrl: string | undefined;

  constructor(private readonly options: SupervisorOptions) {
    this.control = new HostControl(options.logger, (command) => this.obey(command));
    this.redis = new RedisManager(
      options.paths.logsDir,
      options.logger,
      () => this.persist(),
      options.paths.home,
      options.redisRestartPolicy,
    );
  }

  async open(): Promise<void> {
    prepareHome(this.options.paths);
    const previous = await readState(this.options.paths.stateFile);
    if (previous !== undefined) {
      const reaped = await reapOrphans(previous, this.options.identity.pid);
      if (reaped.length > 0)
        this.options.logger.warn({ reaped }, 'stopped processes left by a supervisor that died');
      this.history = previous.jobs.map((job) =>
        isActive(job.state)
          ? { ...job, state: 'failed', lastError: 'the supervisor stopped unexpectedly', endedAt: Date.now() }
          : job,
      );
    }
    this.persist();
  }

  handle = async (request: ControlRequest, context: RequestContext): Promise<unknown> => {
    switch (request.type) {
      case 'ping':
        return { pid: process.pid, home: this.options.paths.home };
      case 'start':
        return {
          job: await this.startJob(request.configPath, request.timeoutMs, context),
          dashboard: this.dashboardUrl ?? null,
        };
      case 'list':
        return { jobs: await this.list(request.all), dashboard: this.dashboardUrl ?? null };
      case 'stop':
        if (request.allHosts === true)
          return this.endOnAllHosts('stop', request.target, request.drainTimeoutMs, context);
        return { job: await this.stopJob(request.target, request.drainTimeoutMs, context) };
      case 'cancel':
        if (request.allHosts === true)
          return this.endOnAllHosts('cancel', request.target, CANCEL_WAIT_MS, context);
        return { job: await this.cancelJob(request.target) };
      case 'shutdown':
        return this.shutdown(request.keepData === true);
      case 'clear':
        return this.clearFinished(request.target);
    }
  };

  async startJob(configPath: string, timeoutMs: number, context: RequestContext): Promise<ListedJob> {
    if (this.closing) throw new CsError('CS_ERR_SUPERVISOR_UNAVAILABLE', 'the supervisor is shutting down');
    const { config, warnings } = loadConfig(configPath);
    for (const warning of warnings) this.options.logger.warn({ configPath }, warning);
    const running = this.jobs.find((job) => job.record.name === config.jobName && isActive(job.state));
    if (running !== undefined) {
      throw new CsError(
        'CS_ERR_JOB_RUNNING',
        `job ${config.jobName} is already ${running.state} (id ${running.record.id}); stop it first (cluster-serving stop ${config.jobName}) or choose another jobName`,
      );
    }
    const job = new Job({
      id: randomBytes(4).toString('hex'),
      config,
      configPath: config.configPath ?? configPath,
      logsDir: this.options.paths.logsDir,
      logger: this.options.logger,
      onChange: () => this.persist(),
      ...(this.options.restartPolicy === undefined ? {} : { restartPolicy: this.options.restartPolicy }),
      ...(this.options.jobHealth === undefined ? {} : { health: this.options.jobHealth }),
      ...(this.options.entries === undefined ? {} : { entries: this.options.entries }),
    });
    // Registered before Redis is checked, so a second start of the same jobName is refused meanwhile.
    this.jobs.push(job);
    this.configs.set(job.record.id, config);
    this.persist();
    let redis: RedisInUse | undefined;
    try {
      context.progress('redis', `checking Redis at ${redactUrl(config.redisUrl)}`);
      redis = await this.redis.ensure({
        url: config.redisUrl,
        maxmemory: config.redisMaxmemory,
        persistence: config.redisPersistence,
        cpus: plumbingCpus(config),
        timeoutMs: config.redisTimeout,
        caFile: config.redisSecureTrustStorePath,
      });
      context.progress(
        'redis',
        `Redis ${redis.version} at ${redactUrl(redis.url)} (${redis.managed ? 'started by cluster-serving' : 'already running, not managed'})`,
      );
      // --timeout covers the whole start, Redis included.
      await job.start(context, Math.max(1, timeoutMs - (Date.now() - job.record.startedAt)));
      this.control.watch(config.redisUrl, config.redisSecureTrustStorePath);
    } catch (error) {
      if (job.state === 'starting') {
        job.record.state = 'failed';
        job.record.lastError = error instanceof Error ? error.message : String(error);
        job.record.endedAt = Date.now();
      }
      this.retire(job);
      // Leave nothing of a failed attempt: a Redis it started goes too, unless another job uses it.
      if (redis?.startedNow === true && !this.jobs.some((j) => j.record.redisUrl === config.redisUrl)) {
        await this.redis.stop(redisEndpoint(config.redisUrl).port);
      }
      throw error;
    }
    return this.view(job.record, job);
  }

  /** The record of a job by id, running or finished. */
  record(id: string): JobRecord | undefined {
    return (
      this.jobs.find((job) => job.record.id === id)?.record ?? this.history.find((record) => record.id === id)
    );
  }

  async list(all: boolean): Promise<ListedJob[]> {
    const active = this.jobs.filter((job) => isActive(job.state) || all);
    const views = await Promise.all(active.map((job) => this.view(job.record, job)));
    if (!all) return views;
    const past = await Promise.all(this.history.map((record) => this.view(record, undefined)));
    return [...views, ...past.reverse()];
  }

  async stopJob(target: string, drainTimeoutMs: number, context: RequestContext): Promise<ListedJob> {
    const job = this.find(target);
    let untilId = '0-0';
    try {
      untilId = await lastGeneratedId(
        await this.connection(job.record.redisUrl, job.redisCaFile),
        job.record.name,
      );
    } catch (error) {
      this.options.logger.warn(
        { err: error },
        'cannot read the stream position; stopping after in-flight entries',
      );
    }
    context.progress('stopping', `draining ${job.record.name} up to entry ${untilId}`);
    await job.stop(untilId, drainTimeoutMs);
    this.retire(job);
    return this.view(job.record, undefined);
  }

  async cancelJob(target: string): Promise<ListedJob> {
    const job = this.find(target);
    await job.cancel();
    this.retire(job);
    return this.view(job.record, undefined);
  }

  /**
   * Forgets finished jobs (every one, or those named `target` or with that id): gone from
   * `list --all`, the dashboard and state.json. Their log files stay.
   */
  clearFinished(target: string | undefined): ClearResult {
    const matches = (record: JobRecord): boolean =>
      target === undefined || record.id === target || record.name === target;
    const cleared = this.history.filter(matches);
    if (target !== undefined && cleared.length === 0) {
      const running = this.jobs.find((job) => job.record.id === target || job.record.name === target);
      if (running !== undefined) {
        throw new CsError(
          'CS_ERR_JOB_RUNNING',
          `job ${running.record.name} (${running.record.id}) is ${running.state}, not finished; stop or cancel it first (cluster-serving cancel ${running.record.name})`,
        );
      }
      throw new CsError(
        'CS_ERR_JOB_NOT_FOUND',
        `no finished job is named or has id "${target}" (cluster-serving list --all shows them)`,
      );
    }
    this.history = this.history.filter((record) => !matches(record));
    for (const record of cleared) this.configs.delete(record.id);
    this.persist();
    return { cleared: cleared.map(({ id, name, state }) => ({ id, name, state })) };
  }

  /**
   * Idempotent: stops every job, then the managed Redis servers, removing their data unless
   * `keepData`; every step runs even when one fails.
   */
  async shutdown(keepData = false): Promise<ShutdownResult> {
    this.closing = true;
    const names = this.jobs.filter((job) => isActive(job.state)).map((job) => job.record.name);
    const results = await Promise.allSettled(
      this.jobs.filter((job) => isActive(job.state)).map((job) => job.cancel()),
    );
    for (const result of results) {
      if (result.status === 'rejected')
        this.options.logger.error({ err: result.reason }, 'cannot cancel a job');
    }
    await this.control.stop();
    for (const connection of this.connections.values()) connection.disconnect();
    this.connections.clear();
    let stopped: StoppedRedis = { urls: [], keptData: [] };
    try {
      stopped = await this.redis.stopAll(keepData);
    } catch (error) {
      this.options.logger.error({ err: error }, 'cannot stop the managed Redis');
    }
    return { jobs: names, redis: stopped.urls, keptData: stopped.keptData };
  }

  /** Everything the dashboard's page of a job shows; undefined when no job has this id. */
  async detail(id: string): Promise<JobDetail | undefined> {
    const job = this.jobs.find((j) => j.record.id === id);
    const record = job?.record ?? this.history.find((r) => r.id === id);
    if (record === undefined) return undefined;
    return jobDetail({
      job: await this.view(record, job),
      record,
      config: this.configs.get(id),
      redis: await this.connection(record.redisUrl, job?.redisCaFile).catch(() => undefined),
    });
  }

  /** The last 30 minutes of a job's shared statistics; undefined when Redis cannot be read. */
  async slots(id: string, now = Date.now()): Promise<Slot[] | undefined> {
    const job = this.jobs.find((j) => j.record.id === id);
    const record = job?.record ?? this.history.find((r) => r.id === id);
    if (record === undefined) return undefined;
    try {
      return await readSlots(await this.connection(record.redisUrl, job?.redisCaFile), record.name, now);
    } catch {
      return undefined;
    }
  }

  /** Writes each running job's queue depth into its current slot (the dashboard's queue chart). */
  async sampleQueues(now = Date.now()): Promise<void> {
    for (const job of this.jobs.filter((j) => isActive(j.state))) {
      try {
        const redis = await this.connection(job.record.redisUrl, job.redisCaFile);
        const { queued } = await readQueueState(redis, job.record.name);
        await sampleQueue(redis, job.record.name, now, queued);
      } catch {
        // Redis is away: no sample for this slot, the chart shows a gap.
      }
    }
  }

  /**
   * `stop|cancel --all-hosts`: tells every other supervisor of the job's Redis, ends the job
   * here (when it runs here), then waits for the job's heartbeats to end everywhere.
   */
  private async endOnAllHosts(
    action: HostCommand['action'],
    target: string,
    drainTimeoutMs: number,
    context: RequestContext,
  ): Promise<AllHostsResult> {
    const local = this.jobs.find(
      (job) => isActive(job.state) && (job.record.id === target || job.record.name === target),
    );
    // A job that ran here before can still be ended on the other hosts; find() throws
    // CS_ERR_JOB_NOT_FOUND, listing what runs here, for a job this host never ran.
    const known =
      local?.record ??
      [...this.history].reverse().find((r) => r.id === target || r.name === target) ??
      this.find(target).record;
    const redis = await this.connection(known.redisUrl, local?.redisCaFile);
    const otherHosts = await this.control.publish(redis, known.redisUrl, {
      action,
      job: known.name,
      drainTimeoutMs,
    });
    context.progress('stopping', `asked ${otherHosts} other host(s) to ${action} ${known.name}`);
    let job: ListedJob;
    if (local === undefined) job = await this.view(known, undefined);
    else if (action === 'stop') job = await this.stopJob(local.record.id, drainTimeoutMs, context);
    else job = await this.cancelJob(local.record.id);
    const stillRunningOn = await this.control.waitStopped(
      redis,
      known.name,
      drainTimeoutMs + HEARTBEAT_GRACE_MS,
      context.signal,
    );
    return { job, otherHosts, stillRunningOn };
  }

  /** A command another host's supervisor published: end the job here if it runs here. */
  private async obey(command: HostCommand): Promise<void> {
    const local = this.jobs.find((job) => isActive(job.state) && job.record.name === command.job);
    if (local === undefined) return;
    if (command.action === 'stop') {
      const quiet: RequestContext = { progress: () => undefined, signal: new AbortController().signal };
      await this.stopJob(local.record.id, command.drainTimeoutMs, quiet);
    } else await this.cancelJob(local.record.id);
  }

  private find(target: string): Job {
    const active = this.jobs.filter((job) => isActive(job.state));
    const job = active.find((j) => j.record.id === target) ?? active.find((j) => j.record.name === target);
    if (job !== undefined) return job;
    const names = active.map((j) => `${j.record.name} (${j.record.id})`).join(', ');
    throw new CsError(
      'CS_ERR_JOB_NOT_FOUND',
      `no running job is named or has id "${target}"; running: ${names === '' ? 'none' : names} (see cluster-serving list --all)`,
    );
  }

  private retire(job: Job): void {
    const index = this.jobs.indexOf(job);
    if (index >= 0) this.jobs.splice(index, 1);
    this.history.push(job.record);
    if (this.history.length > HISTORY_LIMIT) this.history = this.history.slice(-HISTORY_LIMIT);
    const kept = new Set([...this.history, ...this.jobs.map((j) => j.record)].map((r) => r.id));
    for (const id of this.configs.keys()) if (!kept.has(id)) this.configs.delete(id);
    this.persist();
  }

  private async view(record: JobRecord, job: Job | undefined): Promise<ListedJob> {
    let connection: Redis | undefined;
    try {
      connection = await this.connection(record.redisUrl, job?.redisCaFile);
    } catch {
      connection = undefined;
    }
    return describeJob({
      record,
      redis: connection,
      redisManaged: this.redis.isManaged(record.redisUrl),
      redisStatus: this.redis.status(record.redisUrl),
      localReady: job?.localReady() ?? 0,
      localConsumers:
        job?.localConsumers() ?? record.processes.flatMap((p) => (p.consumer === null ? [] : [p.consumer])),
    });
  }

  /** Connections for reading the shared figures, one per Redis, closed at shutdown. */
  private async connection(url: string, caFile: string | undefined): Promise<Redis> {
    let connection = this.connections.get(url);
    if (connection === undefined) {
      connection = createRedis({
        url,
        timeoutMs: 2000,
        role: 'producer',
        name: 'cluster-serving-supervisor',
        caFile,
      });
      connection.on('error', () => undefined);
      this.connections.set(url, connection);
    }
    // First use connects; later, a connection that is down fails at once (ioredis keeps
    // reconnecting in the background), so `list` never waits on a Redis that is gone.
    const status = connection.status;
    if (status === 'wait' || status === 'connecting' || status === 'connect')
      await connectRedis(connection, url);
    else if (status !== 'ready') {
      throw new CsError('CS_ERR_REDIS_UNAVAILABLE', `Redis at ${redactUrl(url)} is not connected`);
    }
    return connection;
  }

  private persist(): void {
    try {
      writeState(this.options.paths.stateFile, {
        supervisorPid: this.options.identity.pid,
        supervisorStartTime: this.options.identity.startTime,
        jobs: [...this.history, ...this.jobs.map((job) => job.record)],
        redis: this.redis.records(),
      });
    } catch (error) {
      this.options.logger.error({ err: error }, 'cannot write state.json');
    }
  }
}
