import cluster from 'node:cluster';
import { realpathSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { Producer } from '../client/producer.js';
import { CsError, isCsError, reasonOf } from '../errors/registry.js';
import { EntryRuntime } from '../runtime/entry-runtime.js';
import { settlesWithin } from '../runtime/within.js';
import { createLogger, type Logger } from '../logging/logger.js';
import { createFrontendMetrics } from '../metrics/frontend-metrics.js';
import { describePlacement, placeThisProcess } from '../placement/affinity.js';
import {
  parseFrontendArgv,
  resolveFrontendSettings,
  type FrontendSettings,
  type RunFrontendOptions,
} from './options.js';
import { clusterMetrics, runFrontendCluster } from './cluster.js';
import { ProducerBackend } from './producer-backend.js';
import { loadHttpsCredentials, type HttpsCredentials } from './https-credentials.js';
import { HttpsListener } from './https-listener.js';
import { buildServer } from './server.js';
import { SlotRecorder } from './slot-recorder.js';

export type { RunFrontendOptions } from './options.js';

/** The address clients can use: a wildcard interface is reached through the loopback. */
function publicUrl(host: string, port: number, scheme: 'http' | 'https' = 'http'): string {
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `${scheme}://${shown}:${port}`;
}

/**
 * Keeps one running Producer. When Redis is unreachable at start the frontend still listens
 * (answering 503) and keeps trying with backoff, so service resumes by itself.
 */
class ProducerKeeper {
  current: Producer | undefined;
  private stopped = false;
  private readonly settings: FrontendSettings;
  private readonly logger: Logger;

  constructor(settings: FrontendSettings, logger: Logger) {
    this.settings = settings;
    this.logger = logger;
  }

  /** One attempt now; on failure the retries continue in the background. */
  async start(): Promise<void> {
    if (await this.attempt()) return;
    void this.retry();
  }

  private async retry(): Promise<void> {
    for (let round = 1; !this.stopped && this.current === undefined; round++) {
      await delay(Math.min(100 * 2 ** Math.min(round, 5), 2000), undefined, { ref: false });
      if (!this.stopped) await this.attempt();
    }
  }

  private async attempt(): Promise<boolean> {
    const {
      http,
      redisUrl,
      maxQueueLength,
      maxRecordBatch,
      maxRecordBytes,
      redisTimeoutMs,
      minReplicas,
      caFile,
    } = this.settings;
    const producer = new Producer({
      redisUrl,
      job: http.redisInputQueue,
      countWindow: http.countWindow,
      timeWindow: http.timeWindow,
      ...(maxQueueLength === undefined ? {} : { maxQueueLength }),
      ...(maxRecordBatch === undefined ? {} : { maxRecordBatch }),
      ...(maxRecordBytes === undefined ? {} : { maxRecordBytes }),
      ...(redisTimeoutMs === undefined ? {} : { redisTimeoutMs }),
      ...(minReplicas === undefined ? {} : { minReplicas }),
      caFile,
      logger: this.logger,
    });
    try {
      await producer.start();
    } catch (error) {
      this.logger.warn({ err: error }, 'Redis is not reachable yet; answering 503 and retrying');
      await producer.stop();
      return false;
    }
    if (this.stopped) {
      await producer.stop();
      return false;
    }
    this.current = producer;
    this.logger.info({ redis: redisUrl.replace(/\/\/([^@/]*)@/, '//***@') }, 'connected to Redis');
    return true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.current?.stop();
  }
}

/** The longest in-flight requests get at a stop; then their connections are closed. */
const MAX_GRACE_MS = 15_000;
/** What the Producer's close gets (a Redis that is down must not hold the exit). */
const PRODUCER_STOP_MS = 2000;

/**
 * Runs the HTTP frontend of one job in this process until SIGTERM/SIGINT; the process's
 * EntryRuntime owns those (a second one exits at once). Resolves to the exit code, already
 * set as process.exitCode: 0 after a clean stop, 1 when it could not start (port in use...),
 * 2 for invalid options.
 */
export async function runFrontend(options: RunFrontendOptions): Promise<number> {
  const bootLogger = createLogger(options.logFile === undefined ? {} : { file: options.logFile });
  const runtime = new EntryRuntime({
    name: 'http',
    logger: bootLogger,
    stopTimeoutMs: MAX_GRACE_MS + PRODUCER_STOP_MS + 3000,
  });
  const code = await serve(options, bootLogger, runtime);
  runtime.finish(code);
  return code;
}

async function serve(
  options: RunFrontendOptions,
  bootLogger: Logger,
  runtime: EntryRuntime,
): Promise<number> {
  let settings: FrontendSettings;
  const fatal = (error: unknown): number => {
    runtime.reportFatal(error);
    return isCsError(error) ? error.exitCode : 1;
  };
  try {
    settings = resolveFrontendSettings(options);
  } catch (error) {
    return fatal(error);
  }
  const { http } = settings;
  const job = http.redisInputQueue;
  const logger = bootLogger.child({ component: 'frontend', job });
  for (const warning of settings.warnings) logger.warn(warning);

  if (cluster.isPrimary && settings.placement !== undefined) {
    // Its processes (node:cluster's too, which inherit it) stay off the job's inference CPUs.
    const placement = placeThisProcess(settings.placement);
    if (placement?.pinned === true) logger.info(describePlacement(placement), 'kept off the inference CPUs');
    else if (placement !== undefined)
      logger.warn(describePlacement(placement), 'cpuAffinity auto: CPUs left as they were');
  }

  if (http.processes > 1 && cluster.isPrimary) return runFrontendCluster(http.processes, logger, runtime);

  let credentials: HttpsCredentials | undefined;
  try {
    credentials = http.httpsEnabled ? loadHttpsCredentials(http) : undefined;
  } catch (error) {
    return fatal(error);
  }

  const keeper = new ProducerKeeper(settings, logger);
  const backend = new ProducerBackend(() => keeper.current, { job });
  const own = createFrontendMetrics({ job, defaultMetrics: true, producerFlushes: () => backend.flushes });
  const metrics = cluster.isWorker ? clusterMetrics(own) : own;
  const slots = new SlotRecorder({ job, redis: () => keeper.current?.redis, logger });
  const app = buildServer({ backend, http, logger, metrics, slots });
  const https = credentials === undefined ? undefined : new HttpsListener(app, credentials, logger);

  await keeper.start();
  try {
    await app.listen({ host: http.interface, port: http.port });
  } catch (error) {
    await slots.stop();
    await keeper.stop();
    const code = (error as { code?: unknown }).code;
    const reason =
      code === 'EADDRINUSE'
        ? new CsError(
            'CS_ERR_PORT_IN_USE',
            `port ${http.port} on ${http.interface} is already in use; stop what listens there or choose another port (--port, or http.port in config.yaml)`,
          )
        : error;
    return fatal(reason);
  }
  if (https !== undefined) {
    try {
      await https.start(http.interface, http.securePort);
    } catch (error) {
      await app.close();
      await keeper.stop();
      return fatal(error);
    }
    logger.info(
      { url: publicUrl(http.interface, https.port ?? http.securePort, 'https') },
      'frontend listening (HTTPS)',
    );
  }
  const url = publicUrl(http.interface, http.port);
  logger.info({ url }, 'frontend listening');
  slots.start();
  runtime.tellParent({ type: 'state', state: 'ready', url });

  await runtime.stopRequested;
  logger.info('stopping: answering the requests in flight');
  // fastify stops accepting, then waits for in-flight requests; bounded so a stuck one cannot hold the exit.
  const graceMs = Math.min(http.requestTimeout + 1000, MAX_GRACE_MS);
  const secureClosed = https?.stop(graceMs);
  const closed = await Promise.race([app.close().then(() => true), delay(graceMs, false, { ref: false })]);
  if (!closed) {
    logger.warn({ graceMs }, 'requests still open at the end of the grace period; closing their connections');
    app.server.closeAllConnections();
  }
  await secureClosed;
  await slots.stop();
  if (!(await settlesWithin(keeper.stop(), PRODUCER_STOP_MS, () => undefined)))
    logger.warn({ timeoutMs: PRODUCER_STOP_MS }, 'Redis did not answer the close in time');
  logger.info('frontend stopped');
  logger.flush();
  return 0;
}

function isEntry(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (isEntry()) {
  try {
    const { flags, logFile } = parseFrontendArgv(process.argv.slice(2));
    await runFrontend({ flags, ...(logFile === undefined ? {} : { logFile }) });
  } catch (error) {
    // Bad argv, before any runtime exists.
    process.stderr.write(`cluster-serving http: ${reasonOf(error)}\n`);
    process.exitCode = isCsError(error) ? error.exitCode : 1;
    if (process.connected) process.disconnect();
  }
}
