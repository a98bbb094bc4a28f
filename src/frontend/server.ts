import { createRequire } from 'node:module';
import { setTimeout as delay } from 'node:timers/promises';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
} from 'fastify';
import { CsError } from '../errors/registry.js';
import { silentLogger, type Logger } from '../logging/logger.js';
import { createFrontendMetrics, type FrontendMetrics } from '../metrics/frontend-metrics.js';
import type { HttpOptions } from '../config/types.js';
import type { ModelMetadata } from '../protocol/model-metadata.js';
import { InFlightLimit, TokenBucket } from './admission.js';
import type { PredictionBackend } from './backend.js';
import { answerParserError, errorBody, routerError } from './framework-errors.js';
import { answerEncoding, compressBody, decodeRequestBody } from './http-compression.js';
import { httpStatusOf, rejectionReason, retryAfterSeconds, toCsError } from './http-errors.js';
import type { RouteContext } from './route-context.js';
import { registerBigdlRoutes } from './routes-bigdl.js';
import { registerOipRoutes } from './routes-oip.js';
import { registerRepositoryRoutes } from './routes-repository.js';
import { registerStatsRoutes } from './routes-stats.js';

export const WELCOME_TEXT = 'welcome to BigDL web serving frontend';

const PREDICTION_ROUTES = new Set([
  '/predict',
  '/v2/models/:name/infer',
  '/v2/models/:name/versions/:version/infer',
]);

export interface BuildServerOptions {
  readonly backend: PredictionBackend;
  readonly http: HttpOptions;
  readonly logger?: Logger;
  readonly metrics?: FrontendMetrics;
  /** Counts prediction requests into the job's shared statistics slots. */
  readonly slots?: { observe(status: number, ms: number): void };
  /** Clock of the token bucket (tests). */
  readonly now?: () => number;
}

function packageVersion(): string {
  try {
    const pkg = createRequire(import.meta.url)('../../package.json') as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/**
 * The HTTP frontend of one job, without listening, so tests drive it with inject(). The
 * caller owns the backend's lifecycle; closing the server does not stop it.
 */
export function buildServer(options: BuildServerOptions): FastifyInstance {
  const { backend, http } = options;
  const job = http.redisInputQueue;
  const metrics = options.metrics ?? createFrontendMetrics({ job });
  const app = Fastify({
    loggerInstance: (options.logger ?? silentLogger()) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: http.bodyLimit,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    // The router's own refusals (bad URL encoding, a path parameter too long: 414), in our body.
    frameworkErrors: (error, _request, reply) => {
      // Written on the raw response as fastify's own default does: these run before any route.
      const csError = routerError(error);
      const body = errorBody(csError);
      reply.raw
        .writeHead(httpStatusOf(csError.code), {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        })
        .end(body);
    },
    clientErrorHandler: answerParserError,
  });

  // BigDL users post with `curl -d`, which says form-urlencoded: every body is read as bytes and
  // each route parses it (timed), whatever the content type says.
  // A compressed body is inflated here, bounded by bodyLimit, so every route sees plain bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
    const encoding = request.headers['content-encoding'];
    if (encoding === undefined) {
      done(null, body);
      return;
    }
    decodeRequestBody(body as Buffer, encoding, http.bodyLimit).then(
      (plain) => done(null, plain),
      (error: unknown) => done(error as Error),
    );
  });

  const bucket = http.tokenBucketEnabled
    ? new TokenBucket({
        tokensPerSecond: http.tokensPerSecond,
        acquireTimeoutMs: http.tokenAcquireTimeout,
        ...(options.now === undefined ? {} : { now: options.now }),
      })
    : undefined;
  const limit = new InFlightLimit(http.parallelism);
  // Work to do once per request when its answer is out: onResponse covers inject() and normal
  // answers, the socket's close covers clients that went away first.
  const finishers = new WeakMap<FastifyRequest, (() => void)[]>();
  const finish = (request: FastifyRequest): void => {
    const list = finishers.get(request);
    if (list === undefined) return;
    finishers.delete(request);
    for (const fn of list) fn();
  };
  const onFinish = (request: FastifyRequest, fn: () => void): void => {
    finishers.get(request)?.push(fn);
  };

  const context: RouteContext = {
    backend,
    job,
    http,
    metrics,
    version: packageVersion(),
    async admit(request): Promise<void> {
      if (bucket !== undefined) {
        const waitMs = bucket.reserve();
        if (waitMs === undefined) {
          throw new CsError(
            'CS_ERR_HTTP_RATE_LIMITED',
            `rate limited: no token within ${http.tokenAcquireTimeout} ms (tokensPerSecond ${http.tokensPerSecond}); retry later`,
          );
        }
        if (waitMs > 0) await delay(waitMs);
      }
      const release = limit.tryAcquire();
      if (release === undefined) {
        throw new CsError(
          'CS_ERR_HTTP_BUSY',
          `${http.parallelism} predictions are in flight already (parallelism); retry shortly`,
        );
      }
      onFinish(request, release);
    },
    async readyModel(): Promise<ModelMetadata> {
      const status = await backend.status();
      if (status.liveWorkers === 0 || status.model === undefined) {
        throw new CsError(
          'CS_ERR_NO_WORKER',
          `no live worker serves job "${job}"; start one (cluster-serving start, or cluster-serving worker -c config.yaml)`,
        );
      }
      return status.model;
    },
    stage(stage, startedAt): number {
      const now = performance.now();
      metrics.observeStage(stage, (now - startedAt) / 1000);
      return now;
    },
  };

  app.addHook('onRequest', (request, reply, done) => {
    const started = performance.now();
    metrics.requestStarted();
    finishers.set(request, [
      (): void => {
        metrics.requestEnded();
        const route = request.routeOptions.url ?? 'unmatched';
        const ms = performance.now() - started;
        metrics.observeRequest(route, request.method, reply.raw.statusCode, ms / 1000);
        if (PREDICTION_ROUTES.has(route)) options.slots?.observe(reply.raw.statusCode, ms);
      },
    ]);
    reply.raw.once('close', () => finish(request));
    done();
  });
  app.addHook('onResponse', (request, _reply, done) => {
    finish(request);
    done();
  });

  // Once closing, answers still in flight end their keep-alive connection, so close() can finish
  // as soon as the last one is out instead of waiting for clients to hang up.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) void reply.header('connection', 'close');
    done(null, payload);
  });
  // Answers are compressed only for clients that ask (Accept-Encoding), so others pay nothing.
  app.addHook('onSend', (request, reply, payload, done) => {
    const encoding = answerEncoding(request.headers['accept-encoding']);
    if (encoding === undefined || (typeof payload !== 'string' && !Buffer.isBuffer(payload))) {
      done(null, payload);
      return;
    }
    compressBody(payload, encoding).then(
      (compressed) => {
        void reply.header('content-encoding', encoding).header('vary', 'accept-encoding');
        reply.removeHeader('content-length');
        done(null, compressed);
      },
      (error: unknown) => done(error as Error),
    );
  });

  app.setErrorHandler((error, request, reply) => {
    const csError = toCsError(error, http.bodyLimit);
    const status = httpStatusOf(csError.code);
    const route = request.routeOptions.url;
    if (route !== undefined && PREDICTION_ROUTES.has(route)) metrics.reject(rejectionReason(csError.code));
    if (status >= 500 && status !== 503 && status !== 504) {
      request.log.error({ err: error, code: csError.code, route }, 'request failed');
    }
    const retryAfter = retryAfterSeconds(status);
    if (retryAfter !== undefined) void reply.header('retry-after', String(retryAfter));
    void reply.code(status).type('application/json').send(errorBody(csError));
  });

  app.setNotFoundHandler((request, reply) => {
    const notFound = new CsError(
      'CS_ERR_HTTP_NOT_FOUND',
      `no route ${request.method} ${request.url.split('?')[0] ?? ''}; routes: GET /, POST /predict, GET /metrics, GET /v2, GET /v2/health/{live,ready}, GET /v2/models/${job}[/ready|/config], POST /v2/models/${job}/infer, POST /v2/repository/index`,
    );
    void reply.code(httpStatusOf(notFound.code)).type('application/json').send(errorBody(notFound));
  });

  app.get('/', (_request, reply) => {
    void reply.type('text/plain; charset=utf-8').send(WELCOME_TEXT);
  });

  app.get('/metrics', async (request, reply) => {
    try {
      metrics.setJobFigures(await backend.figures());
    } catch (error) {
      request.log.warn({ err: error }, 'job figures unavailable for /metrics');
      metrics.setJobFigures(undefined);
    }
    metrics.setProducerFigures(backend.flushes);
    const text = await metrics.render();
    return reply.type(metrics.registry.contentType).send(text);
  });

  registerBigdlRoutes(app, context);
  registerOipRoutes(app, context);
  registerRepositoryRoutes(app, context);
  registerStatsRoutes(app, context);
  return app;
}
