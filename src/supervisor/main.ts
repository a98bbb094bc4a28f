import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../logging/logger.js';
import { EntryRuntime } from '../runtime/entry-runtime.js';
import { dashboardAddress, type DashboardAddress } from './dashboard-address.js';
import { dashboardHosts } from './dashboard-guard.js';
import { homePaths, resolveHome } from './home.js';
import { hostSupervisor } from './host.js';

/**
 * The background supervisor of one home: `node dist/supervisor/main.js --home <dir>`.
 * Started detached by `cluster-serving start`; exits after a `shutdown` request or SIGTERM.
 */
const { values } = parseArgs({ options: { home: { type: 'string' } } });
const paths = homePaths(values.home === undefined ? resolveHome() : resolve(values.home));
const logger = createLogger({
  file: `${paths.logsDir}/supervisor.log`,
  bindings: { component: 'supervisor' },
});

// Stopping cancels every job (3 s grace each, together) and stops the managed Redis (5 s).
const runtime = new EntryRuntime({
  name: 'supervisor',
  logger,
  stopTimeoutMs: 30_000,
  stopOnDisconnect: false,
});

let exiting = false;
const exit = (code: number): void => {
  if (exiting) return;
  exiting = true;
  void (host?.close() ?? Promise.resolve()).finally(() => {
    runtime.finish(code);
    process.exit(code);
  });
};

let dashboard: DashboardAddress | undefined;
try {
  dashboard = dashboardAddress(process.env);
} catch (error) {
  // `start` refuses a bad value before it starts this process; one set otherwise is logged.
  logger.warn({ err: error }, 'running without a dashboard');
}

const host = await hostSupervisor({
  paths,
  logger,
  dashboard,
  dashboardHosts: dashboardHosts(process.env),
  marker: 'supervisor/main.js',
  onShutdownRequested: () => runtime.requestStop('shutdown'),
}).catch((error: unknown) => {
  logger.error({ err: error }, 'cannot start the supervisor');
  logger.flush();
  process.exit(1);
});

if (host === undefined) {
  logger.info('another supervisor already serves this home');
  process.exit(0);
}

void runtime.stopRequested.then(() => exit(0));
// Nobody reads a detached process's terminal; a closed one must not end it.
process.on('SIGHUP', () => undefined);
