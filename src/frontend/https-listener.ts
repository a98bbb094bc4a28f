/**
 * BigDL's second listener: HTTPS on securePort next to plain HTTP on port. It serves the same
 * fastify instance (its routing function), so both ports share the routes, the admission
 * limits (parallelism, token bucket), the metrics and the Redis producer.
 *
 * States: idle → listening (start) → stopped (stop); stop from idle goes straight to stopped.
 */
import { createServer, type Server } from 'node:https';
import type { FastifyInstance } from 'fastify';
import { CsError } from '../errors/registry.js';
import type { Logger } from '../logging/logger.js';
import type { HttpsCredentials } from './https-credentials.js';

export type HttpsListenerState = 'idle' | 'starting' | 'listening' | 'stopping' | 'stopped';

export class HttpsListener {
  private server: Server | undefined;
  private stopping: Promise<void> | undefined;
  state: HttpsListenerState = 'idle';

  constructor(
    private readonly app: FastifyInstance,
    private readonly credentials: HttpsCredentials,
    private readonly logger: Logger,
  ) {}

  /** Listens once the app is ready (its routes registered); CS_ERR_PORT_IN_USE when the port is taken. */
  async start(host: string, port: number): Promise<void> {
    if (this.state !== 'idle') throw new Error(`HttpsListener.start() in state ${this.state}`);
    this.state = 'starting';
    await this.app.ready();
    const plain = this.app.server;
    const server = createServer({ cert: this.credentials.cert, key: this.credentials.key }, (req, res) =>
      this.app.routing(req, res),
    );
    // The same limits and bad-request answers as the plain listener that fastify set up.
    server.keepAliveTimeout = plain.keepAliveTimeout;
    server.requestTimeout = plain.requestTimeout;
    server.headersTimeout = plain.headersTimeout;
    for (const listener of plain.listeners('clientError')) {
      server.on('clientError', listener as (...args: unknown[]) => void);
    }
    // A failed handshake (wrong CA, plain HTTP on this port) concerns that client only.
    server.on('tlsClientError', (error) => this.logger.debug({ err: error }, 'TLS handshake failed'));
    this.server = server;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host, port }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      this.state = 'stopped';
      this.server = undefined;
      if ((error as { code?: unknown }).code === 'EADDRINUSE') {
        throw new CsError(
          'CS_ERR_PORT_IN_USE',
          `securePort ${port} on ${host} is already in use; stop what listens there or choose another port (--securePort, or http.securePort in config.yaml)`,
        );
      }
      throw error;
    }
    // Later server errors (EMFILE on accept, say) are logged; the plain listener keeps serving.
    server.on('error', (error) => this.logger.error({ err: error }, 'HTTPS listener error'));
    this.state = 'listening';
    this.logger.info(
      { subject: this.credentials.subject, validTo: this.credentials.validTo.toISOString() },
      'HTTPS certificate loaded',
    );
  }

  /** The port actually listened on (securePort 0 picks a free one). */
  get port(): number | undefined {
    const address = this.server?.address();
    return typeof address === 'object' && address !== null ? address.port : undefined;
  }

  /**
   * Stops accepting, lets requests in flight finish for up to `graceMs`, then closes what is
   * left. Idempotent: later calls wait for the first.
   */
  stop(graceMs: number): Promise<void> {
    this.stopping ??= this.close(graceMs);
    return this.stopping;
  }

  private async close(graceMs: number): Promise<void> {
    const server = this.server;
    if (server === undefined) {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopping';
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    try {
      await closed;
    } finally {
      clearTimeout(timer);
      this.server = undefined;
      this.state = 'stopped';
    }
  }
}
