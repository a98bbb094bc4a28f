import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../config/load.js';
import { CsError } from '../errors/registry.js';
import { createLogger, type Logger } from '../logging/logger.js';
import { EntryRuntime } from '../runtime/entry-runtime.js';
import { WORKER_STOP_TIMEOUT_MS, Worker, type WorkerState } from './worker.js';

export interface RunWorkerOptions {
  readonly configPath: string;
  readonly redisUrl?: string;
  readonly logFile?: string;
  /** Told every state change (the worker command's health port follows it). */
  readonly onState?: (state: WorkerState) => void;
}

/** Past the worker's own stop bound, the runtime exits anyway (a cleanup step that hangs). */
const STOP_BACKSTOP_MS = WORKER_STOP_TIMEOUT_MS + 5000;

/**
 * Runs one worker in this process until SIGTERM/SIGINT (or a drain message from the
 * supervisor); the process's EntryRuntime owns those. Resolves to the exit code, already set
 * as process.exitCode: 0 after a clean stop, 1 when it could not start.
 */
export async function runWorker(options: RunWorkerOptions): Promise<number> {
  const logger = createLogger(options.logFile === undefined ? {} : { file: options.logFile });
  const entry = new EntryRuntime({ name: 'worker', logger, stopTimeoutMs: STOP_BACKSTOP_MS });
  const code = await serve(options, entry, logger);
  entry.finish(code);
  return code;
}

async function serve(options: RunWorkerOptions, entry: EntryRuntime, logger: Logger): Promise<number> {
  let worker: Worker;
  try {
    const { config, warnings } = loadConfig(
      options.configPath,
      options.redisUrl === undefined ? {} : { redisUrl: options.redisUrl },
    );
    for (const warning of warnings) logger.warn(warning);
    worker = new Worker({
      config,
      logger,
      placeCpus: true,
      onState: (state, consumer) => {
        options.onState?.(state);
        if (state === 'loading' || state === 'warming' || state === 'ready')
          entry.tellParent({ type: 'state', state, consumer });
      },
    });
  } catch (error) {
    entry.reportFatal(error);
    return 1;
  }

  const stopped = new Promise<void>((resolve) => {
    entry.onParentMessage((message) => {
      void worker
        .drain(message.untilId, message.timeoutMs)
        .then(() => worker.stop())
        .then(resolve);
    });
    void entry.stopRequested.then(() => worker.stop().then(resolve));
  });

  try {
    await worker.start();
  } catch (error) {
    entry.reportFatal(error);
    return 1;
  }
  await stopped;
  if (worker.failure !== undefined) {
    entry.reportFatal(new CsError('CS_ERR_INTERNAL', `the inference thread stopped: ${worker.failure}`));
    return 1;
  }
  logger.info('worker stopped');
  logger.flush();
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      config: { type: 'string', short: 'c', default: 'config.yaml' },
      redis: { type: 'string' },
      'log-file': { type: 'string' },
    },
  });
  await runWorker({
    configPath: values.config,
    ...(values.redis === undefined ? {} : { redisUrl: values.redis }),
    ...(values['log-file'] === undefined ? {} : { logFile: values['log-file'] }),
  });
}
