/**
 * Several frontend processes sharing one port through node:cluster (`http.processes`). JSON
 * parsing is CPU work per request, so where it bounds the frontend a second process lets it use
 * a second core. The primary process only starts, restarts and stops them and sums their
 * metrics; every request is answered by one of the frontend processes.
 */
import cluster, { type Worker as ClusterWorker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import { ERRORS, isErrorCode } from '../errors/registry.js';
import type { Logger } from '../logging/logger.js';
import type { FrontendMetrics } from '../metrics/frontend-metrics.js';
import type { EntryRuntime } from '../runtime/entry-runtime.js';
import {
  METRICS_REPLY,
  METRICS_REQUEST,
  parseChildMessage,
  type MetricsMessage,
} from '../contracts/child-ipc.js';

/** A process that dies soon after another is not started again: something is wrong with all of them. */
const RESTART_AFTER_MS = 1000;

/**
 * In the primary: starts `count` frontend processes (each runs this program again and serves),
 * tells the parent once all listen, starts a new one when one dies, and stops them all when
 * the runtime is asked to stop (SIGTERM/SIGINT, the parent gone). Resolves to the exit code: 0
 * after a stop, else the code of the process that failed to start (its reason is already on
 * stderr and was sent to the parent).
 */
export function runFrontendCluster(count: number, logger: Logger, runtime: EntryRuntime): Promise<number> {
  const aggregator = new AggregatorRegistry();
  const listening = new Set<number>();
  let announced = false;
  let stopping = false;
  let exitCode = 0;
  let lastRestart = 0;
  let failedWith: number | undefined;
  return new Promise<number>((resolve) => {
    const alive = (): ClusterWorker[] => Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
    const stopAll = (code: number): void => {
      if (!stopping) exitCode = code;
      stopping = true;
      const workers = alive();
      if (workers.length === 0) resolve(exitCode);
      for (const worker of workers) worker.process.kill('SIGTERM');
    };
    const start = (): void => {
      const worker = cluster.fork();
      worker.on('message', (value: unknown) => {
        const child = parseChildMessage(value);
        if (child?.type === 'state' && child.state === 'ready') {
          listening.add(worker.id);
          if (!announced && listening.size === count) {
            announced = true;
            logger.info({ url: child.url, processes: count }, 'frontend processes listening');
            runtime.tellParent({
              type: 'state',
              state: 'ready',
              ...(child.url === undefined ? {} : { url: child.url }),
            });
          }
          return;
        }
        if (child?.type === 'fatal') {
          // A cluster process's own exit code is lost when it leaves the cluster: take it from here.
          failedWith = isErrorCode(child.code) ? ERRORS[child.code].exitCode : 1;
          runtime.tellParent(child);
          return;
        }
        const message = value as MetricsMessage;
        if (message.type === METRICS_REQUEST && message.id !== undefined) {
          const id = message.id;
          aggregator.clusterMetrics().then(
            (text) => worker.send({ type: METRICS_REPLY, id, text } satisfies MetricsMessage),
            (error: unknown) =>
              worker.send({ type: METRICS_REPLY, id, error: String(error) } satisfies MetricsMessage),
          );
        }
      });
      worker.on('exit', (code, signal) => {
        listening.delete(worker.id);
        if (stopping) {
          if (alive().length === 0) resolve(exitCode);
          return;
        }
        const now = Date.now();
        if (!announced || now - lastRestart < RESTART_AFTER_MS) {
          logger.error({ code, signal }, 'a frontend process stopped; stopping the others');
          stopAll(failedWith ?? (code === 0 || code === null ? 1 : code));
          return;
        }
        lastRestart = now;
        logger.warn({ code, signal }, 'a frontend process stopped; starting another');
        start();
      });
    };
    for (let i = 0; i < count; i++) start();
    void runtime.stopRequested.then(() => stopAll(0));
  });
}

/**
 * In a frontend process of a cluster: /metrics answers with every process's request figures
 * summed (through the primary) and the job's figures as this process read them.
 */
export function clusterMetrics(metrics: FrontendMetrics): FrontendMetrics {
  // Constructing one is what makes prom-client answer the primary's requests for this process's figures.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([metrics.registry]);
  const waiting = new Map<number, (text: string) => void>();
  let nextId = 0;
  process.on('message', (message: MetricsMessage) => {
    if (message.type !== METRICS_REPLY || message.id === undefined) return;
    waiting.get(message.id)?.(
      message.text ?? `# metrics of the other processes unavailable: ${message.error}\n`,
    );
    waiting.delete(message.id);
  });
  const summed = (): Promise<string> =>
    new Promise<string>((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      process.send?.({ type: METRICS_REQUEST, id } satisfies MetricsMessage);
    });
  return {
    ...metrics,
    async render(): Promise<string> {
      const [all, job] = await Promise.all([summed(), metrics.renderJobFigures()]);
      return `${all.trimEnd()}\n${job}`;
    },
  };
}
