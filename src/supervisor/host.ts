import { open, rm } from 'node:fs/promises';
import type { Logger } from '../logging/logger.js';
import { hostName } from '../worker/host-name.js';
import { sendRequest } from './control-client.js';
import { ControlServer, type RequestContext } from './control-server.js';
import type { DashboardAddress } from './dashboard-address.js';
import { startDashboard } from './dashboard.js';
import { assertSocketPathFits, prepareHome, type HomePaths } from './home.js';
import { DEFAULT_LOG_ROTATION, rotateLogs, type LogRotation } from './log-rotation.js';
import { isOurProcess, processStartTime } from './process-identity.js';
import type { ControlRequest } from './protocol.js';
import type { JobHealthOptions, RestartPolicyOptions } from './restart-policy.js';
import { readIdentity, removeFiles, type Identity } from './state-store.js';
import { Supervisor } from './supervisor.js';
import type { ProcessEntries } from './job.js';

export interface HostOptions {
  readonly paths: HomePaths;
  readonly logger: Logger;
  /** A substring of this process's command line, recorded so a later `shutdown` can recognise it. */
  readonly marker: string;
  /** Called after a `shutdown` request was answered; the process entry then calls `close()` and exits. */
  readonly onShutdownRequested: () => void;
  readonly restartPolicy?: RestartPolicyOptions;
  readonly redisRestartPolicy?: RestartPolicyOptions;
  readonly jobHealth?: JobHealthOptions;
  readonly entries?: ProcessEntries;
  /** Where to serve the dashboard; none when undefined. */
  readonly dashboard?: DashboardAddress | undefined;
  /** Names besides the bound address and localhost that the dashboard answers for. */
  readonly dashboardHosts?: readonly string[];
  /** When the home's log files are rotated (DEFAULT_LOG_ROTATION when absent). */
  readonly logRotation?: LogRotation;
}

/** A stop asked from the dashboard drains as long as `cluster-serving stop` does by default. */
const DASHBOARD_DRAIN_MS = 30_000;
const QUEUE_SAMPLE_MS = 5000;

/** A control context for actions that no CLI waits on. */
function quietContext(): RequestContext {
  return { progress: () => undefined, signal: new AbortController().signal };
}

/**
 * Stop and Cancel on the dashboard end a job whose workers also run on other hosts on every
 * host, as `--all-hosts` does; a job of this host alone through the supervisor's own stop.
 */
async function endFromDashboard(
  supervisor: Supervisor,
  action: 'stop' | 'cancel',
  id: string,
): Promise<unknown> {
  const job = (await supervisor.list(true)).find((j) => j.id === id);
  const here = hostName();
  const allHosts = job?.workers.hosts.some((h) => h.host !== here && h.workers > 0) === true;
  const request: ControlRequest =
    action === 'stop'
      ? { type: 'stop', target: id, drainTimeoutMs: DASHBOARD_DRAIN_MS, allHosts }
      : { type: 'cancel', target: id, allHosts };
  return supervisor.handle(request, quietContext());
}

export interface SupervisorHost {
  readonly supervisor: Supervisor;
  /** The dashboard's URL, when it serves one. */
  readonly dashboardUrl: string | undefined;
  /** Stops every job and the managed Redis (if not done yet), the socket, and removes pid/state files. */
  close(): Promise<void>;
}

/**
 * Makes this process the supervisor of a home: claims `supervisor.pid`, reaps what a dead
 * predecessor left, and serves the control socket. Resolves to `undefined` when another live
 * supervisor already owns the home.
 */
export async function hostSupervisor(options: HostOptions): Promise<SupervisorHost | undefined> {
  const { paths, logger } = options;
  assertSocketPathFits(paths);
  prepareHome(paths);
  const identity: Identity = {
    pid: process.pid,
    startTime: processStartTime(process.pid),
    marker: options.marker,
  };
  if (!(await claimPidFile(paths, identity))) return undefined;

  const supervisor = new Supervisor({
    paths,
    logger,
    identity,
    ...(options.restartPolicy === undefined ? {} : { restartPolicy: options.restartPolicy }),
    ...(options.redisRestartPolicy === undefined ? {} : { redisRestartPolicy: options.redisRestartPolicy }),
    ...(options.jobHealth === undefined ? {} : { jobHealth: options.jobHealth }),
    ...(options.entries === undefined ? {} : { entries: options.entries }),
  });
  let shutdownDone = false;
  const server = new ControlServer(
    paths.socket,
    async (request, context) => {
      const result = await supervisor.handle(request, context);
      if (request.type === 'shutdown') {
        shutdownDone = true;
        // Answer first; the entry closes the socket and exits right after.
        setImmediate(options.onShutdownRequested);
      }
      return result;
    },
    logger,
  );
  try {
    await supervisor.open();
    await server.listen();
  } catch (error) {
    await removeFiles(paths.pidFile);
    throw error;
  }
  const dashboard =
    options.dashboard === undefined
      ? undefined
      : await startDashboard(
          options.dashboard,
          {
            home: paths.home,
            jobs: () => supervisor.list(true),
            slots: (id) => supervisor.slots(id),
            detail: (id) => supervisor.detail(id),
            stop: (id) => endFromDashboard(supervisor, 'stop', id),
            cancel: (id) => endFromDashboard(supervisor, 'cancel', id),
          },
          logger,
          options.dashboardHosts,
        );
  supervisor.dashboardUrl = dashboard?.url;
  // The queue depth chart: one sample of each running job's queue per sampling period.
  const sampling = setInterval(() => {
    void supervisor.sampleQueues();
  }, QUEUE_SAMPLE_MS);
  sampling.unref();
  const rotation = options.logRotation ?? DEFAULT_LOG_ROTATION;
  const rotating = setInterval(() => {
    void rotateLogs(paths.logsDir, rotation).then(
      (rotated) => {
        if (rotated.length > 0) logger.info({ rotated }, 'log files rotated');
      },
      (error: unknown) => logger.warn({ err: error }, 'cannot rotate the log files'),
    );
  }, rotation.intervalMs);
  rotating.unref();
  logger.info({ home: paths.home }, 'supervisor ready');

  let closing: Promise<void> | undefined;
  return {
    supervisor,
    dashboardUrl: dashboard?.url,
    close(): Promise<void> {
      closing ??= (async () => {
        clearInterval(rotating);
        clearInterval(sampling);
        await dashboard?.close().catch(() => undefined);
        if (!shutdownDone)
          await supervisor.shutdown().catch((error: unknown) => logger.error({ err: error }, 'shutdown'));
        await server.close().catch(() => undefined);
        await removeFiles(paths.pidFile, paths.stateFile, paths.socket);
        logger.info('supervisor stopped');
      })();
      return closing;
    },
  };
}

/**
 * Creates the pid file exclusively. An existing one is honoured only when its process is
 * verifiably a live supervisor (pid, start time, command line) that answers on the socket
 * or is still starting; otherwise it is stale and replaced.
 */
async function claimPidFile(paths: HomePaths, identity: Identity): Promise<boolean> {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      const handle = await open(paths.pidFile, 'wx', 0o600);
      await handle.writeFile(`${JSON.stringify(identity)}\n`);
      await handle.close();
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const existing = await readIdentity(paths.pidFile);
    if (existing !== undefined && existing.pid !== process.pid && isOurProcess(existing)) {
      const answers = await sendRequest(paths.socket, { type: 'ping' }, { timeoutMs: 2000 }).then(
        () => true,
        () => false,
      );
      if (answers || attempt === 0) return false;
    }
    await rm(paths.pidFile, { force: true });
  }
  return false;
}
