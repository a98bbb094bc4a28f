import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionError } from 'fastify';
import { CsError, reasonOf } from '../errors/registry.js';
import { httpStatusOf } from './http-errors.js';

/*
 * Answers that fastify and Node's HTTP parser would otherwise write themselves, in their own
 * body ({"error":"Bad Request","code":"FST_ERR_..."}): here they carry our body and a
 * registry code like every other answer, so a client needs one error parser.
 */

/** The one error body of the frontend: `{"error": "<what was wrong>", "code": "CS_ERR_..."}`. */
export function errorBody(error: CsError): string {
  return JSON.stringify({ error: error.message, code: error.code });
}

/** A request line this long in a header overflow means the URL, not the headers, is too big. */
const LONG_REQUEST_LINE = 8 * 1024;
const REQUEST_LINE_START = /^[A-Z]{3,10} \//;

/** The coded error for what fastify's router refused before any route ran (`frameworkErrors`). */
export function routerError(error: unknown): CsError {
  const code = (error as { code?: unknown }).code;
  if (code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return new CsError(
      'CS_ERR_HTTP_URI_TOO_LONG',
      'a path parameter is longer than 100 characters; model names are at most 64',
    );
  }
  if (code === 'FST_ERR_BAD_URL') {
    return new CsError('CS_ERR_HTTP_BAD_REQUEST', `the URL could not be decoded: ${reasonOf(error)}`);
  }
  return new CsError('CS_ERR_INTERNAL', reasonOf(error), { cause: error });
}

/** The coded error for a request Node's HTTP parser could not read. */
export function parserError(error: ConnectionError): CsError {
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return new CsError(
      'CS_ERR_HTTP_REQUEST_TIMEOUT',
      'the request was not received completely in time; send it again',
    );
  }
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    // Node gives the bytes it was parsing as a Buffer (fastify's type says otherwise).
    const raw: unknown = error.rawPacket;
    const packet = Buffer.isBuffer(raw) ? raw : undefined;
    const head = packet?.subarray(0, 16).toString('latin1') ?? '';
    const lineEnd = packet?.indexOf('\r\n') ?? -1;
    const lineLength = lineEnd === -1 ? (packet?.length ?? 0) : lineEnd;
    if (REQUEST_LINE_START.test(head) && lineLength > LONG_REQUEST_LINE) {
      return new CsError(
        'CS_ERR_HTTP_URI_TOO_LONG',
        'the request URL is longer than the server reads (16 KB with its headers); send inputs in the body',
      );
    }
    return new CsError(
      'CS_ERR_HTTP_HEADERS_TOO_LARGE',
      'the request headers are larger than the server reads (16 KB); send fewer or shorter headers',
    );
  }
  return new CsError(
    'CS_ERR_HTTP_BAD_REQUEST',
    `the request is not valid HTTP/1.1 (${error.code}: ${reasonOf(error)})`,
  );
}

/** fastify's `clientErrorHandler`: Node's parser refusals, written on the socket in our body. */
export function answerParserError(error: ConnectionError, socket: Socket): void {
  // A reset connection has nobody left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const csError = parserError(error);
  const status = httpStatusOf(csError.code);
  const body = errorBody(csError);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
