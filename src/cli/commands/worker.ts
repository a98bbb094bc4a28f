import { parseHealthPort } from './worker-health.js';

export interface WorkerCommandOptions {
  readonly config: string;
  readonly redis?: string;
  readonly logFile?: string;
  readonly healthPort?: string;
  readonly healthHost?: string;
}

/** One worker in the foreground: the scale-out path (other machines point at the same Redis). */
export async function runWorkerCommand(options: WorkerCommandOptions): Promise<number> {
  const health = parseHealthPort(options.healthPort, options.healthHost);
  const { runWorker } = await import('../../worker/main.js');
  const run = {
    configPath: options.config,
    ...(options.redis === undefined ? {} : { redisUrl: options.redis }),
    ...(options.logFile === undefined ? {} : { logFile: options.logFile }),
  };
  if (health === undefined) return runWorker(run);
  const { startWorkerProbes } = await import('../../worker/health-probes.js');
  // A config that does not load is reported by runWorker itself, with its usual message.
  const probes = await startWorkerProbes({ ...run, ...health });
  try {
    return await runWorker({ ...run, onState: (state) => probes?.setWorkerState(state) });
  } finally {
    await probes?.stop();
  }
}
