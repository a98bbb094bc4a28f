/**
 * The supervisor's dashboard (DESIGN.md section 1): an HTTP server on 127.0.0.1:8081 by
 * default (CLUSTER_SERVING_DASHBOARD), in the supervisor's own process.
 *   GET  /                  every job, live figures and charts of the running ones
 *   GET  /jobs/{id}         one job: figures, workers by host, last errors, config, logs
 *   GET  /api/jobs          `{"jobs":[...]}`, what `cluster-serving list --all --json` prints
 *   GET  /dashboard.js      the page's own refresh script
 *   POST /jobs/{id}/stop    the supervisor's own stop (as `cluster-serving stop`)
 *   POST /jobs/{id}/cancel  the supervisor's own cancel (as `cluster-serving cancel`)
 * GETs never change anything. Every request's Host is checked and every POST must carry the
 * page's Origin and token (dashboard-guard.ts). A port already taken is logged and the
 * supervisor runs without a dashboard.
 */
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { CsError, isCsError, reasonOf } from '../errors/registry.js';
import type { Logger } from '../logging/logger.js';
import type { Slot } from '../redis/stats-schema.js';
import type { DashboardAddress } from './dashboard-address.js';
import { DashboardGuard } from './dashboard-guard.js';
import { renderJobPage } from './dashboard-job-page.js';
import { isActiveState, renderDashboardPage, type PageContext } from './dashboard-page.js';
import { DASHBOARD_SCRIPT } from './dashboard-script.js';
import type { JobDetail } from './job-detail.js';
import type { ListedJob } from './job-record.js';

export interface Dashboard {
  readonly url: string;
  close(): Promise<void>;
}

export interface DashboardSource {
  readonly home: string;
  /** Every job of the home, running ones first (`list --all`). */
  jobs(): Promise<ListedJob[]>;
  /** The last 30 minutes of a job's statistics; undefined when Redis cannot be read. */
  slots?(id: string): Promise<Slot[] | undefined>;
  /** One job's page; undefined when no job has this id. */
  detail?(id: string): Promise<JobDetail | undefined>;
  /** The supervisor's own stop and cancel, as the CLI asks for them. */
  stop?(id: string): Promise<unknown>;
  cancel?(id: string): Promise<unknown>;
}

export interface DashboardOptions {
  /** Host, Origin and token checks; a guard for 127.0.0.1 when not given. */
  readonly guard?: DashboardGuard;
  readonly logger?: Logger;
}

/** How long an action may take before the page is shown again (it goes on in the background). */
const ACTION_WAIT_MS = 1500;

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'content-security-policy':
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
} as const;

function sendError(reply: FastifyReply, error: CsError): FastifyReply {
  return reply
    .code(error.httpStatus)
    .headers(SECURITY_HEADERS)
    .type('application/json')
    .send(JSON.stringify({ error: error.message, code: error.code }));
}

export function buildDashboard(source: DashboardSource, options: DashboardOptions = {}): FastifyInstance {
  const guard = options.guard ?? new DashboardGuard('127.0.0.1');
  const app = Fastify({ logger: false, bodyLimit: 4096 });
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  );
  app.addHook('onRequest', async (request) => {
    guard.checkHost(request.headers.host);
  });
  app.setErrorHandler((error, _request, reply) => {
    const known = isCsError(error)
      ? error
      : new CsError(
          (error as { statusCode?: number }).statusCode === 415
            ? 'CS_ERR_DASHBOARD_FORBIDDEN'
            : 'CS_ERR_INTERNAL',
          reasonOf(error),
        );
    return sendError(reply, known);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(
      reply,
      new CsError(
        'CS_ERR_JOB_NOT_FOUND',
        `no page ${request.method} ${request.url.split('?')[0] ?? ''}; see /`,
      ),
    ),
  );

  const context = async (jobs: readonly ListedJob[]): Promise<PageContext> => {
    const slots = new Map<string, Slot[] | undefined>();
    if (source.slots !== undefined) {
      for (const job of jobs.filter((j) => isActiveState(j.state)))
        slots.set(job.id, await source.slots(job.id));
    }
    return { home: source.home, now: new Date(), token: guard.token, slots };
  };

  app.get('/', async (_request, reply) => {
    const jobs = await source.jobs();
    const page = renderDashboardPage(jobs, await context(jobs));
    return reply.headers(SECURITY_HEADERS).type('text/html; charset=utf-8').send(page);
  });
  app.get('/jobs/:id', async (request, reply) => {
    const { id } = request.params as { id: string };
    const detail = await source.detail?.(id);
    if (detail === undefined) {
      throw new CsError('CS_ERR_JOB_NOT_FOUND', `no job has id "${id}" in this home; see / for the jobs`);
    }
    const page = renderJobPage(detail, { home: source.home, now: new Date(), token: guard.token });
    return reply.headers(SECURITY_HEADERS).type('text/html; charset=utf-8').send(page);
  });
  app.get('/api/jobs', async (_request, reply) => {
    return reply.headers(SECURITY_HEADERS).send({ jobs: await source.jobs() });
  });
  app.get('/dashboard.js', async (_request, reply) => {
    return reply.headers(SECURITY_HEADERS).type('text/javascript; charset=utf-8').send(DASHBOARD_SCRIPT);
  });

  for (const action of ['stop', 'cancel'] as const) {
    app.post(`/jobs/:id/${action}`, async (request, reply) => {
      const body = (request.body ?? {}) as Record<string, unknown>;
      guard.checkAction({ origin: request.headers.origin, host: request.headers.host }, body['token']);
      const { id } = request.params as { id: string };
      const job = (await source.jobs()).find((j) => j.id === id);
      const run = source[action];
      if (job === undefined || !isActiveState(job.state) || run === undefined) {
        throw new CsError('CS_ERR_JOB_NOT_FOUND', `no running job has id "${id}"; see / for the jobs`);
      }
      options.logger?.info({ job: job.name, id, action }, `${action} asked from the dashboard`);
      const done = run(id).then(
        () => undefined,
        (error: unknown) => {
          options.logger?.error({ err: error, job: job.name, id }, `${action} from the dashboard failed`);
          return error;
        },
      );
      let bound: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        done,
        new Promise<'pending'>((resolve) => (bound = setTimeout(() => resolve('pending'), ACTION_WAIT_MS))),
      ]);
      clearTimeout(bound);
      if (outcome !== undefined && outcome !== 'pending') {
        throw isCsError(outcome) ? outcome : new CsError('CS_ERR_INTERNAL', reasonOf(outcome));
      }
      // The page shows the job's state, `stopping` while a drain goes on.
      return reply
        .code(303)
        .header('location', `/jobs/${encodeURIComponent(id)}`)
        .send();
    });
  }
  return app;
}

/** Serves the dashboard at `address`; undefined (and a warning) when it cannot listen there. */
export async function startDashboard(
  address: DashboardAddress,
  source: DashboardSource,
  logger: Logger,
  extraHosts: readonly string[] = [],
): Promise<Dashboard | undefined> {
  const app = buildDashboard(source, { guard: new DashboardGuard(address.host, extraHosts), logger });
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
