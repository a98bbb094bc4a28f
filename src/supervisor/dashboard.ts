/**
 * The supervisor's dashboard (DESIGN.md section 1): an HTTP server on 127.0.0.1:8081 by
 * default (CLUSTER_SERVING_DASHBOARD), in the supervisor's own process.
 *   GET /           the page (dashboard-page.ts)
 *   GET /api/jobs   `{"jobs":[...]}`, what `cluster-serving list --all --json` prints
 * A port already taken is logged and the supervisor runs without a dashboard.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from '../logging/logger.js';
import type { DashboardAddress } from './dashboard-address.js';
import { renderDashboardPage } from './dashboard-page.js';
import type { ListedJob } from './job-record.js';

export interface Dashboard {
  readonly url: string;
  close(): Promise<void>;
}

export interface DashboardSource {
  readonly home: string;
  /** Every job of the home, running ones first (`list --all`). */
  jobs(): Promise<ListedJob[]>;
}

export function buildDashboard(source: DashboardSource): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get('/', async (_request, reply) => {
    const page = renderDashboardPage(await source.jobs(), { home: source.home, now: new Date() });
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page);
  });
  app.get('/api/jobs', async (_request, reply) => {
    return reply.header('cache-control', 'no-store').send({ jobs: await source.jobs() });
  });
  return app;
}

/** Serves the dashboard at `address`; undefined (and a warning) when it cannot listen there. */
export async function startDashboard(
  address: DashboardAddress,
  source: DashboardSource,
  logger: Logger,
): Promise<Dashboard | undefined> {
  const app = buildDashboard(source);
  try {
    await app.listen({ host: address.host, port: address.port });
  } catch (error) {
    await app.close();
    const code = (error as NodeJS.ErrnoException).code;
    logger.warn(
      { host: address.host, port: address.port, code },
      code === 'EADDRINUSE'
        ? 'dashboard port already in use; running without a dashboard (set CLUSTER_SERVING_DASHBOARD to another host:port, or off)'
        : 'cannot serve the dashboard; running without it',
    );
    return undefined;
  }
  // A wildcard address is reached through the loopback.
  const shown = address.host === '0.0.0.0' || address.host === '::' ? '127.0.0.1' : address.host;
  const host = shown.includes(':') ? `[${shown}]` : shown;
  const url = `http://${host}:${address.port}`;
  logger.info({ url }, 'dashboard listening');
  return { url, close: () => app.close() };
}
