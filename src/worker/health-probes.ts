import { loadConfig } from '../config/load.js';
import { createLogger } from '../logging/logger.js';
import { createRedis } from '../redis/connection.js';
import { HealthServer } from './health-server.js';
import type { WorkerState } from './worker.js';

export interface WorkerProbesOptions {
  readonly configPath: string;
  readonly redisUrl?: string;
  readonly logFile?: string;
  readonly port: number;
  readonly host: string;
}

export interface WorkerProbes {
  readonly port: number;
  setWorkerState(state: WorkerState): void;
  stop(): Promise<void>;
}

/**
 * Opens the worker's health port before the model loads, so liveness answers during a long
 * load. Returns undefined when the config does not load: the worker then fails with the config
 * error. A port that cannot be opened throws (CS_ERR_PORT_IN_USE).
 */
export async function startWorkerProbes(options: WorkerProbesOptions): Promise<WorkerProbes | undefined> {
  let config;
  try {
    config = loadConfig(
      options.configPath,
      options.redisUrl === undefined ? {} : { redisUrl: options.redisUrl },
    ).config;
  } catch {
    return undefined;
  }
  const logger = createLogger(options.logFile === undefined ? {} : { file: options.logFile }).child({
    component: 'worker-health',
    job: config.jobName,
  });
  // Its own producer-role connection: a probe must fail fast when Redis is gone, while the
  // worker's own connections wait for Redis to come back.
  const redis = createRedis({
    url: config.redisUrl,
    role: 'producer',
    timeoutMs: config.redisTimeout,
    caFile: config.redisSecureTrustStorePath,
    name: 'cs-worker-health',
  });
  redis.on('error', (error) => logger.debug({ err: error }, 'health probe redis connection error'));
  const server = new HealthServer({ port: options.port, host: options.host, redis, logger });
  try {
    await server.start();
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  logger.info({ port: server.port, host: options.host }, 'health probes on /healthz and /readyz');
  return {
    port: server.port,
    setWorkerState: (state) => server.setWorkerState(state),
    stop: async () => {
      await server.stop();
      redis.disconnect();
    },
  };
}
