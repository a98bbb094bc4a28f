import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import { CsError, reasonOf } from '../errors/registry.js';
import type { Logger } from '../logging/logger.js';
import type { WorkerState } from './worker.js';

/**
 * The probes of a worker that runs without a supervisor (a Kubernetes pod, a host of its own):
 * - `GET /healthz` (liveness): 200 while the process serves or is starting; 503 once the worker
 *   failed or stopped, so a restart policy replaces it.
 * - `GET /readyz` (readiness): 200 only when the model is loaded and warmed, the worker reads
 *   the stream (state `ready`) and Redis answers a PING within its timeout; 503 otherwise
 *   with the reason. A draining or stopping worker is not ready.
 * Bodies are JSON `{status, state, reason?}`; any other path is 404, any other method 405.
 */
export interface HealthServerOptions {
  readonly port: number;
  readonly host: string;
  /** A producer-role connection (commands fail at once while disconnected), owned by the caller. */
  readonly redis: Redis;
  readonly logger: Logger;
}

export type HealthServerState = 'new' | 'listening' | 'stopped';

const LIVE_STATES: readonly WorkerState[] = ['new', 'loading', 'warming', 'ready', 'draining', 'stopping'];

export class HealthServer {
  private server: Server | undefined;
  private stateValue: HealthServerState = 'new';
  private workerState: WorkerState = 'new';

  constructor(private readonly options: HealthServerOptions) {}

  get state(): HealthServerState {
    return this.stateValue;
  }

  /** The port listened on (the one asked for, or the one the OS chose for port 0). */
  get port(): number {
    const address = this.server?.address();
    return address !== null && typeof address === 'object' ? (address as AddressInfo).port : 0;
  }

  setWorkerState(state: WorkerState): void {
    this.workerState = state;
  }

  async start(): Promise<void> {
    if (this.stateValue !== 'new') return;
    const server = createServer((request, response) => {
      this.answer(request, response).catch((error: unknown) => {
        this.options.logger.warn({ err: error }, 'health probe answer failed');
        if (!response.headersSent) response.writeHead(500);
        response.end();
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        reject(
          error.code === 'EADDRINUSE'
            ? new CsError(
                'CS_ERR_PORT_IN_USE',
                `--health-port ${this.options.port} is already in use on ${this.options.host}; choose another port`,
              )
            : new CsError(
                'CS_ERR_INTERNAL',
                `the health port ${this.options.port} could not be opened: ${reasonOf(error)}`,
              ),
        );
      });
      server.listen(this.options.port, this.options.host, () => resolve());
    });
    this.stateValue = 'listening';
  }

  /** Closes the port; open probe connections are cut so the process can exit. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.stateValue === 'stopped') return;
    this.stateValue = 'stopped';
    const server = this.server;
    if (server === undefined || !server.listening) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/healthz' && path !== '/readyz') {
      return send(response, 404, { error: `no route ${path}: probes are /healthz and /readyz` });
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return send(response, 405, { error: `${request.method} ${path}: use GET` });
    }
    const state = this.workerState;
    if (path === '/healthz') {
      const live = LIVE_STATES.includes(state);
      return send(response, live ? 200 : 503, { status: live ? 'live' : 'down', state });
    }
    if (state !== 'ready') {
      return send(response, 503, { status: 'not ready', state, reason: `worker is ${state}` });
    }
    const redisProblem = await this.pingRedis();
    if (redisProblem !== undefined) {
      return send(response, 503, { status: 'not ready', state, reason: redisProblem });
    }
    return send(response, 200, { status: 'ready', state });
  }

  /** The connection is a producer's: a PING fails at once while disconnected and times out after redisTimeout. */
  private async pingRedis(): Promise<string | undefined> {
    const { redis } = this.options;
    try {
      if (redis.status === 'wait') await redis.connect();
      await redis.ping();
      return undefined;
    } catch (error) {
      return `Redis does not answer: ${reasonOf(error)}`;
    }
  }
}

function send(response: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}
