import { join } from 'node:path';
import { setTimeout as wait } from 'node:timers/promises';
import { CsError } from '../../errors/registry.js';
import { createLogger } from '../../logging/logger.js';
import { EntryRuntime } from '../../runtime/entry-runtime.js';
import { dashboardAddress } from '../../supervisor/dashboard-address.js';
import { hostSupervisor } from '../../supervisor/host.js';
import { isActive } from '../../supervisor/job-record.js';
import type { Supervisor } from '../../supervisor/supervisor.js';
import { createProgress } from '../progress.js';
import { renderStarted } from '../render.js';
import { currentHome } from '../supervisor-link.js';

export interface ForegroundOptions {
  readonly configPath: string;
  readonly timeoutMs: number;
  readonly json: boolean;
}

/**
 * `start --foreground`: this process is the supervisor (the socket works, so `list` and
 * `stop` from another terminal do too). Ctrl-C or SIGTERM stops everything and returns.
 */
export async function runForeground(options: ForegroundOptions): Promise<number> {
  const paths = currentHome();
  const logger = createLogger({
    file: join(paths.logsDir, 'supervisor.log'),
    bindings: { component: 'supervisor' },
  });
  const stop = new AbortController();
  // Ctrl-C stops every job (bounded: the process exits after 30 s anyway); a second Ctrl-C exits at once.
  const runtime = new EntryRuntime({ name: 'start', logger, stopTimeoutMs: 30_000, stopOnDisconnect: false });
  void runtime.stopRequested.then(() => stop.abort());
  const host = await hostSupervisor({
    paths,
    logger,
    marker: process.argv[1] ?? 'cluster-serving',
    onShutdownRequested: () => runtime.requestStop('shutdown'),
    dashboard: dashboardAddress(process.env),
  }).catch((error: unknown) => {
    runtime.close();
    throw error;
  });
  if (host === undefined) {
    runtime.close();
    throw new CsError(
      'CS_ERR_CLI_USAGE',
      `a supervisor already runs for ${paths.home}; use start without --foreground, or set CLUSTER_SERVING_HOME to another directory`,
    );
  }
  const progress = createProgress();
  try {
    let job;
    try {
      job = await host.supervisor.startJob(options.configPath, options.timeoutMs, {
        progress: (step, message) => progress.step({ type: 'progress', step, message }),
        signal: stop.signal,
      });
    } catch (error) {
      progress.done(false);
      throw error;
    }
    progress.done(true);
    process.stdout.write(
      options.json ? `${JSON.stringify(job)}\n` : renderStarted(job, host.dashboardUrl ?? null),
    );
    process.stderr.write('running in the foreground; press Ctrl-C to stop\n');
    const code = await waitUntilStopped(host.supervisor, job.id, stop.signal);
    process.stderr.write(code === 0 ? 'stopping...\n' : '');
    return code;
  } finally {
    await host.close();
    runtime.close();
  }
}

/** How often a foreground start looks at its job's state. */
const WATCH_INTERVAL_MS = 1000;

/**
 * 0 on Ctrl-C/SIGTERM/shutdown; 1 when the job ends by itself (failed, or stopped from
 * elsewhere). Each wait lets go of the abort signal when it ends: a listener left per second
 * grew without bound in a long foreground run (and warned after ten seconds).
 */
export async function waitUntilStopped(
  jobs: Pick<Supervisor, 'record'>,
  id: string,
  signal: AbortSignal,
  everyMs = WATCH_INTERVAL_MS,
): Promise<number> {
  while (!signal.aborted) {
    try {
      await wait(everyMs, undefined, { signal });
    } catch {
      break; // aborted: Ctrl-C, SIGTERM or shutdown
    }
    const job = jobs.record(id);
    if (job === undefined || !isActive(job.state)) {
      const why = job?.lastError ?? `it is ${job?.state ?? 'gone'}`;
      process.stderr.write(`job ${job?.name ?? id} ended: ${why}\n`);
      return job?.state === 'failed' ? 1 : 0;
    }
  }
  return 0;
}
