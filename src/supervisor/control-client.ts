import { createConnection } from 'node:net';
import { CsError, isErrorCode } from '../errors/registry.js';
import { responseSchema, type ControlRequest, type Progress } from './protocol.js';

export interface SendOptions {
  readonly onProgress?: (progress: Progress) => void;
  /** Hang up after this long; the supervisor then abandons what the request started. */
  readonly timeoutMs?: number;
}

/**
 * Sends one request to the supervisor and resolves with its `result` payload; an `error`
 * answer is rethrown as the CsError the supervisor raised, so exit codes carry over.
 */
export function sendRequest(
  socketPath: string,
  request: ControlRequest,
  options: SendOptions = {},
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    let buffer = '';
    let settled = false;
    const finish = (error: Error | undefined, value?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error === undefined) resolve(value);
      else reject(error);
    };
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(
            () =>
              finish(
                new CsError(
                  'CS_ERR_SUPERVISOR_UNAVAILABLE',
                  `the supervisor did not answer within ${options.timeoutMs} ms`,
                ),
              ),
            options.timeoutMs,
          );
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      finish(
        new CsError(
          'CS_ERR_SUPERVISOR_UNAVAILABLE',
          `cannot reach the supervisor at ${socketPath}: ${error.code ?? error.message}`,
          {
            cause: error,
          },
        ),
      );
    });
    socket.on('close', () =>
      finish(
        new CsError(
          'CS_ERR_SUPERVISOR_UNAVAILABLE',
          'the supervisor closed the connection without an answer',
        ),
      ),
    );
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        const parsed = responseSchema.safeParse(safeJson(line));
        if (!parsed.success) {
          finish(
            new CsError('CS_ERR_INTERNAL', `the supervisor sent an unreadable answer: ${line.slice(0, 200)}`),
          );
          return;
        }
        const response = parsed.data;
        if (response.type === 'progress') options.onProgress?.(response);
        else if (response.type === 'result') finish(undefined, response.result);
        else
          finish(
            new CsError(isErrorCode(response.code) ? response.code : 'CS_ERR_INTERNAL', response.message),
          );
      }
    });
  });
}

function safeJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}
