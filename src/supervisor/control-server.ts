import { chmod, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../logging/logger.js';
import { CsError, isCsError, reasonOf } from '../errors/registry.js';
import { requestSchema, type ControlRequest, type Progress } from './protocol.js';

/** What a request handler gets: a way to report progress, and a signal that fires when the CLI hangs up. */
export interface RequestContext {
  progress(step: Progress['step'], message: string): void;
  readonly signal: AbortSignal;
}

export type RequestHandler = (request: ControlRequest, context: RequestContext) => Promise<unknown>;

const MAX_REQUEST_BYTES = 64 * 1024;

/** Serves the JSON-lines control protocol on a Unix socket (mode 0600: only this user may talk to it). */
export class ControlServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly socketPath: string,
    private readonly handler: RequestHandler,
    private readonly logger: Logger,
  ) {
    this.server = createServer((socket) => this.accept(socket));
  }

  async listen(): Promise<void> {
    // A socket file left by a supervisor that died; the caller has checked that none answers.
    await rm(this.socketPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.socketPath, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    await chmod(this.socketPath, 0o600);
  }

  async close(): Promise<void> {
    // End (not destroy) open connections so an answer already written still reaches the CLI.
    const closing = [...this.sockets].map(
      (socket) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => socket.destroy(), 1000);
          socket.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          socket.end();
        }),
    );
    await Promise.all(closing);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.socketPath, { force: true });
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    const controller = new AbortController();
    let buffer = '';
    let handled = false;
    socket.setEncoding('utf8');
    socket.on('close', () => {
      this.sockets.delete(socket);
      controller.abort();
    });
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: string) => {
      if (handled) return;
      buffer += chunk;
      const newline = buffer.indexOf('\n');
      if (newline < 0) {
        if (buffer.length > MAX_REQUEST_BYTES) socket.destroy();
        return;
      }
      handled = true;
      void this.handle(buffer.slice(0, newline), socket, controller.signal);
    });
  }

  private async handle(line: string, socket: Socket, signal: AbortSignal): Promise<void> {
    const write = (value: unknown): void => {
      if (!socket.destroyed) socket.write(`${JSON.stringify(value)}\n`);
    };
    try {
      const request = parseRequest(line);
      const result = await this.handler(request, {
        progress: (step, message) => write({ type: 'progress', step, message }),
        signal,
      });
      write({ type: 'result', result });
    } catch (error) {
      if (!isCsError(error)) this.logger.error({ err: error }, 'control request failed');
      const code = isCsError(error) ? error.code : 'CS_ERR_INTERNAL';
      write({ type: 'error', code, message: reasonOf(error) });
    }
    socket.end();
  }
}

function parseRequest(line: string): ControlRequest {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new CsError('CS_ERR_CLI_USAGE', 'control request is not JSON');
  }
  const parsed = requestSchema.safeParse(value);
  if (!parsed.success) {
    throw new CsError('CS_ERR_CLI_USAGE', `control request is not valid: ${parsed.error.message}`);
  }
  return parsed.data;
}
