export interface WorkerCommandOptions {
  readonly config: string;
  readonly redis?: string;
  readonly logFile?: string;
}

/** One worker in the foreground: the scale-out path (other machines point at the same Redis). */
export async function runWorkerCommand(options: WorkerCommandOptions): Promise<number> {
  const { runWorker } = await import('../../worker/main.js');
  return runWorker({
    configPath: options.config,
    ...(options.redis === undefined ? {} : { redisUrl: options.redis }),
    ...(options.logFile === undefined ? {} : { logFile: options.logFile }),
  });
}
