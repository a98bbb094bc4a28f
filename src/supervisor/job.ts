import { join } from 'node:path';
import type { ServingConfig } from '../config/types.js';
import { CsError } from '../errors/registry.js';
import type { Logger } from '../logging/logger.js';
import { parseChildMessage, type DrainMessage } from '../contracts/child-ipc.js';
import type { RequestContext } from './control-server.js';
import { entryFile } from './home.js';
import { SERVING_NODE_FLAGS } from './node-flags.js';
import { describeProcess, exitReason, fatalCode, startTimeoutError } from './job-errors.js';
import { boundUrl } from './job-format.js';
import type { JobRecord, JobState, ProcessRecord } from './job-record.js';
import { ManagedChild, type ChildExit } from './managed-child.js';
import { assertPortFree } from './port-check.js';
import {
  DEFAULT_JOB_HEALTH,
  DEFAULT_RESTART_POLICY,
  RestartPolicy,
  type JobHealthOptions,
  type RestartPolicyOptions,
} from './restart-policy.js';

export interface JobOptions {
  readonly id: string;
  readonly config: ServingConfig;
  readonly configPath: string;
  readonly logsDir: string;
  readonly logger: Logger;
  /** Called whenever the record changes, so state.json follows. */
  readonly onChange: () => void;
  readonly restartPolicy?: RestartPolicyOptions;
  /** When a running job is given up (DEFAULT_JOB_HEALTH; tests shorten it). */
  readonly health?: JobHealthOptions;
  /** Entry files to run instead of the built worker/frontend (tests use stand-ins). */
  readonly entries?: ProcessEntries;
}

export interface ProcessEntries {
  readonly worker?: string;
  readonly frontend?: string;
}

/** One child process of the job: its record, the current process, its own crash budget. */
interface Slot {
  readonly record: ProcessRecord;
  readonly policy: RestartPolicy;
  child: ManagedChild | undefined;
  fatal: { code: string; message: string } | undefined;
  timer: NodeJS.Timeout | undefined;
}

const CANCEL_GRACE_MS = 3000;
const FRONTEND_GRACE_MS = 10_000;

/** A job: `modelParallelism` workers (and a frontend when config.yaml has `http:`), supervised. */
export class Job {
  readonly record: JobRecord;
  private readonly slots: Slot[];
  private readonly logger: Logger;
  private startWaiter: { resolve: () => void; reject: (error: Error) => void } | undefined;
  private progress: RequestContext['progress'] = () => undefined;
  private readonly ownConsumers = new Set<string>();
  /** Set once stop/cancel/failure began: exits are then expected, never restarted. */
  private ending = false;
  private readonly health: JobHealthOptions;
  /** Reasons of the latest exits that came before ready, across slots; cleared when one gets ready. */
  private failuresBeforeReady: string[] = [];
  /** Fails the job when no worker got ready in time (set while none is ready). */
  private noReadyTimer: NodeJS.Timeout | undefined;

  /** The CA file for a TLS Redis with a private CA (redisSecureTrustStorePath), when in use. */
  get redisCaFile(): string | undefined {
    const { config } = this.options;
    return config.redisSecureEnabled ? config.redisSecureTrustStorePath : undefined;
  }

  constructor(private readonly options: JobOptions) {
    const { config, id } = options;
    this.logger = options.logger.child({ job: config.jobName, jobId: id });
    this.health = options.health ?? DEFAULT_JOB_HEALTH;
    const slot = (role: ProcessRecord['role'], index: number): Slot => ({
      record: {
        role,
        slot: index,
        pid: null,
        startTime: null,
        state: 'launching',
        restarts: 0,
        consumer: null,
        logFile: join(
          options.logsDir,
          `${config.jobName}-${id}.${role === 'worker' ? `worker-${index}` : 'http'}.log`,
        ),
      },
      policy: new RestartPolicy(options.restartPolicy ?? DEFAULT_RESTART_POLICY),
      child: undefined,
      fatal: undefined,
      timer: undefined,
    });
    this.slots = Array.from({ length: config.modelParallelism }, (_, i) => slot('worker', i + 1));
    if (config.http !== undefined) this.slots.push(slot('frontend', 1));
    this.record = {
      id,
      name: config.jobName,
      state: 'starting',
      configPath: options.configPath,
      modelPath: config.modelPath,
      redisUrl: config.redisUrl,
      httpUrl: null,
      httpBound: null,
      modelParallelism: config.modelParallelism,
      processes: this.slots.map((s) => s.record),
      restarts: 0,
      lastError: null,
      startedAt: Date.now(),
      endedAt: null,
    };
  }

  get state(): JobState {
    return this.record.state;
  }

  /**
   * Every consumer name our own workers ever used. A killed worker's heartbeat stays fresh for
   * a few seconds; it must not be counted as a remote worker meanwhile.
   */
  localConsumers(): string[] {
    return [...this.ownConsumers];
  }

  localReady(): number {
    return this.slots.filter(
      (s) => s.record.role === 'worker' && s.record.state === 'ready' && s.child?.running === true,
    ).length;
  }

  /** Resolves once every process reported ready; otherwise stops what it launched and throws the reason. */
  async start(context: RequestContext, timeoutMs: number): Promise<void> {
    this.progress = context.progress;
    const ready = new Promise<void>((resolve, reject) => {
      this.startWaiter = { resolve, reject };
    });
    // It may be rejected (timeout, fatal exit) while processes are still being launched,
    // before `await ready` below; that must not count as an unhandled rejection.
    ready.catch(() => undefined);
    const timer = setTimeout(() => this.failStart(startTimeoutError(this.record)), timeoutMs);
    const onAbort = (): void =>
      this.failStart(new CsError('CS_ERR_JOB_FAILED', 'start was interrupted (the CLI went away)'));
    context.signal.addEventListener('abort', onAbort, { once: true });
    if (context.signal.aborted) onAbort();
    try {
      const http = this.options.config.http;
      if (http !== undefined) await assertPortFree(http.interface, http.port, 'the HTTP frontend');
      if (http?.httpsEnabled === true)
        await assertPortFree(http.interface, http.securePort, 'the HTTPS frontend (securePort)');
      for (const slot of this.slots) await this.launch(slot);
      await ready;
      this.setState('running');
      this.checkHealth();
    } catch (error) {
      if (this.record.state === 'starting') {
        this.ending = true;
        this.record.lastError = error instanceof Error ? error.message : String(error);
        await this.terminateAll(CANCEL_GRACE_MS);
        this.finish('failed');
      }
      throw error;
    } finally {
      clearTimeout(timer);
      context.signal.removeEventListener('abort', onAbort);
      this.startWaiter = undefined;
      this.progress = () => undefined;
    }
  }

  /** Graceful: workers answer what is in the stream up to `untilId`, then exit; bounded by the drain timeout. */
  async stop(untilId: string, drainTimeoutMs: number): Promise<void> {
    if (this.record.state === 'starting') return this.cancel();
    this.beginEnding();
    const drain: DrainMessage = { type: 'drain', untilId, timeoutMs: drainTimeoutMs };
    await Promise.all(
      this.slots.map(async (slot) => {
        const child = slot.child;
        if (child === undefined || !child.running) return;
        if (slot.record.role === 'frontend') await child.terminate(FRONTEND_GRACE_MS);
        else if (child.send(drain)) await child.waitOrKill(drainTimeoutMs + 5000);
        else await child.terminate(CANCEL_GRACE_MS);
      }),
    );
    this.finish('stopped');
  }

  /** Immediate: SIGTERM (each worker finishes its current batch), SIGKILL after a short grace. */
  async cancel(): Promise<void> {
    this.failStart(new CsError('CS_ERR_JOB_FAILED', 'the job was cancelled while starting'));
    this.beginEnding();
    await this.terminateAll(CANCEL_GRACE_MS);
    this.finish('cancelled');
  }

  private beginEnding(): void {
    this.ending = true;
    this.setState('stopping');
    clearTimeout(this.noReadyTimer);
    for (const slot of this.slots) clearTimeout(slot.timer);
  }

  /**
   * After start: `running` when every process is ready, `degraded` while one is not; with no
   * local worker ready the clock of `health.noReadyFailMs` runs.
   */
  private checkHealth(): void {
    if (this.ending || (this.record.state !== 'running' && this.record.state !== 'degraded')) return;
    const all = this.slots.every((s) => s.record.state === 'ready' && s.child?.running === true);
    const state = all ? 'running' : 'degraded';
    if (state !== this.record.state) {
      this.logger.warn(
        { state },
        all ? 'every process is ready again' : 'a process is not ready; serving with the others',
      );
      this.setState(state);
    }
    if (this.localReady() > 0) {
      clearTimeout(this.noReadyTimer);
      this.noReadyTimer = undefined;
    } else if (this.noReadyTimer === undefined) {
      this.noReadyTimer = setTimeout(() => {
        const bound = this.health.noReadyFailMs;
        const shown = bound >= 60_000 ? `${Math.round(bound / 6000) / 10} min` : `${bound / 1000} s`;
        void this.fail(
          `no worker has been ready for ${shown}, so the job cannot serve; last error: ${this.record.lastError ?? 'none'}`,
        );
      }, this.health.noReadyFailMs);
    }
  }

  private finish(state: JobState): void {
    this.record.endedAt = Date.now();
    this.setState(state);
  }

  private async launch(slot: Slot): Promise<void> {
    const { record } = slot;
    const role = record.role === 'worker' ? 'worker' : 'frontend';
    const entry = this.options.entries?.[role] ?? entryFile(role);
    const args = [
      ...SERVING_NODE_FLAGS,
      entry,
      '--config',
      this.options.configPath,
      '--log-file',
      record.logFile,
    ];
    const child = await ManagedChild.spawn({
      command: process.execPath,
      args,
      logFile: record.logFile,
      ipc: true,
    });
    slot.child = child;
    slot.fatal = undefined;
    record.pid = child.pid;
    record.startTime = child.startTime;
    record.state = 'launching';
    record.consumer = null;
    this.logger.info({ role: record.role, slot: record.slot, pid: child.pid }, 'process launched');
    this.options.onChange();
    child.onMessage((value) => this.onMessage(slot, value));
    child.exited
      .then((exit) => this.onExit(slot, child, exit))
      .catch((error: unknown) => this.logger.error({ err: error }, 'cannot handle a process exit'));
  }

  private onMessage(slot: Slot, value: unknown): void {
    const message = parseChildMessage(value);
    if (message === undefined) return;
    if (message.type === 'fatal') {
      slot.fatal = { code: message.code, message: message.message };
      return;
    }
    const { record } = slot;
    record.state = message.state;
    if (message.consumer !== undefined) {
      record.consumer = message.consumer;
      this.ownConsumers.add(message.consumer);
    }
    if (record.role === 'frontend' && message.url !== undefined) {
      this.record.httpUrl = message.url;
      const http = this.options.config.http;
      if (http !== undefined) this.record.httpBound = boundUrl(http.interface, http.port);
    }
    this.options.onChange();
    const who =
      record.role === 'worker'
        ? `worker ${record.slot}/${this.options.config.modelParallelism}`
        : 'HTTP frontend';
    if (record.role === 'frontend') this.progress('http', `${who} listening on ${message.url ?? '?'}`);
    else if (message.state === 'loading') this.progress('loading', `${who}: loading the model`);
    else if (message.state === 'warming') this.progress('warming', `${who}: warming up`);
    else this.progress('ready', `${who}: ready`);
    if (message.state === 'ready') this.failuresBeforeReady = [];
    if (this.slots.every((s) => s.record.state === 'ready')) this.startWaiter?.resolve();
    this.checkHealth();
  }

  private async onExit(slot: Slot, child: ManagedChild, exit: ChildExit): Promise<void> {
    if (slot.child !== child) return;
    const wasReady = slot.record.state === 'ready';
    slot.record.state = 'exited';
    this.options.onChange();
    if (this.ending) return;
    const reason = await exitReason(slot.record, slot.fatal, exit);
    this.logger.warn(
      { role: slot.record.role, slot: slot.record.slot, ...exit, reason },
      'process exited unexpectedly',
    );
    this.record.lastError = reason;
    if (this.record.state === 'starting' && exit.code === 1) {
      this.failStart(new CsError(fatalCode(slot.fatal?.code), reason));
      return;
    }
    if (!wasReady) this.failuresBeforeReady.push(failureSignature(slot.fatal, exit));
    const same = this.failuresBeforeReady.slice(-this.health.sameFailureLimit);
    if (
      same.length >= this.health.sameFailureLimit &&
      same.every((r) => r === same[0]) &&
      this.localReady() === 0
    ) {
      // Nothing serves and every try fails the same way: another try will not do better.
      const message = `every try failed the same way (${same.length} in a row) and no worker is ready; last error: ${reason}`;
      if (this.record.state === 'starting') this.failStart(new CsError('CS_ERR_JOB_FAILED', message));
      else await this.fail(message);
      return;
    }
    const delayMs = slot.policy.onCrash();
    this.logger.warn(
      { role: slot.record.role, slot: slot.record.slot, delayMs, recentCrashes: slot.policy.recentCrashes },
      'restarting the process after a delay',
    );
    slot.record.state = 'backoff';
    slot.record.restarts += 1;
    this.record.restarts += 1;
    this.options.onChange();
    this.checkHealth();
    slot.timer = setTimeout(() => {
      if (this.ending) return;
      this.launch(slot).catch((error: unknown) => {
        void this.fail(
          `cannot restart ${describeProcess(slot.record)}: ${error instanceof Error ? error.message : String(error)}`,
        );
      });
    }, delayMs);
  }

  private async fail(message: string): Promise<void> {
    this.logger.error({ reason: message }, 'job failed');
    this.record.lastError = message;
    this.beginEnding();
    await this.terminateAll(CANCEL_GRACE_MS);
    this.finish('failed');
  }

  private failStart(error: Error): void {
    this.startWaiter?.reject(error);
    this.startWaiter = undefined;
  }

  private async terminateAll(graceMs: number): Promise<void> {
    clearTimeout(this.noReadyTimer);
    for (const slot of this.slots) clearTimeout(slot.timer);
    await Promise.all(this.slots.map((slot) => slot.child?.terminate(graceMs)));
  }

  private setState(state: JobState): void {
    this.record.state = state;
    this.options.onChange();
  }
}

/**
 * What makes two failures "the same way" whichever slot had them: the process's own fatal
 * code and message (a model that cannot load), else how it ended (exit code or signal).
 */
function failureSignature(fatal: Slot['fatal'], exit: ChildExit): string {
  if (fatal !== undefined) return `${fatal.code}: ${fatal.message}`;
  return exit.signal !== null ? `signal ${exit.signal}` : `exit code ${exit.code ?? '?'}`;
}
