import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../config/load.js';
import { CsError, isCsError, reasonOf } from '../errors/registry.js';
import { createLogger } from '../logging/logger.js';
import { Worker, type WorkerState } from './worker.js';

export interface RunWorkerOptions {
  readonly configPath: string;
  readonly redisUrl?: string;
  readonly logFile?: string;
  /** Told every state change (the worker command's health port follows it). */
  readonly onState?: (state: WorkerState) => void;
}

type ParentMessage = { type: 'drain'; untilId: string; timeoutMs: number };

function tellParent(message: object): void {
  if (process.send !== undefined && process.connected) process.send(message);
}

/**
 * Runs one worker in this process until SIGTERM/SIGINT (or a drain message from the
 * supervisor). Resolves to the exit code: 0 after a clean stop, 1 when it could not start.
 */
export async function runWorker(options: RunWorkerOptions): Promise<number> {
  const logger = createLogger(options.logFile === undefined ? {} : { file: options.logFile });
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
          tellParent({ type: 'state', state, consumer });
      },
    });
  } catch (error) {
    return fatal(error);
  }

  const stopped = new Promise<void>((resolve) => {
    const stop = (): void => {
      void worker.stop().then(resolve);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    process.on('message', (message: ParentMessage) => {
      if (message.type === 'drain')
        void worker
          .drain(message.untilId, message.timeoutMs)
          .then(() => worker.stop())
          .then(resolve);
    });
    process.once('disconnect', stop);
  });

  try {
    await worker.start();
  } catch (error) {
    return fatal(error);
  }
  await stopped;
  if (worker.failure !== undefined) {
    return fatal(new CsError('CS_ERR_INTERNAL', `the inference thread stopped: ${worker.failure}`));
  }
  logger.info('worker stopped');
  logger.flush();
  return 0;

  function fatal(error: unknown): number {
    const code = isCsError(error) ? error.code : 'CS_ERR_INTERNAL';
    const message = reasonOf(error);
    logger.error({ code }, message);
    logger.flush();
    tellParent({ type: 'fatal', code, message });
    process.stderr.write(`cluster-serving worker: ${message}\n`);
    return 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      config: { type: 'string', short: 'c', default: 'config.yaml' },
      redis: { type: 'string' },
      'log-file': { type: 'string' },
    },
  });
  const code = await runWorker({
    configPath: values.config,
    ...(values.redis === undefined ? {} : { redisUrl: values.redis }),
    ...(values['log-file'] === undefined ? {} : { logFile: values['log-file'] }),
  });
  process.exitCode = code;
  // The IPC channel keeps the process alive; release it so the worker can exit.
  if (process.connected) process.disconnect();
}
