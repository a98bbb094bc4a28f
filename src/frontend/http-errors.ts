import { CsError, ERRORS, isCsError, isErrorCode, reasonOf, type ErrorCode } from '../errors/registry.js';
import type { RejectionReason } from '../metrics/frontend-metrics.js';

const REASON_OF: Readonly<Partial<Record<ErrorCode, RejectionReason>>> = {
  CS_ERR_HTTP_BAD_REQUEST: 'bad_request',
  CS_ERR_INPUT_DECODE: 'bad_request',
  CS_ERR_INPUT_MISMATCH: 'bad_request',
  CS_ERR_INPUT_UNSUPPORTED: 'bad_request',
  CS_ERR_HTTP_MODEL_NOT_FOUND: 'unknown_model',
  CS_ERR_HTTP_BODY_TOO_LARGE: 'body_too_large',
  CS_ERR_HTTP_ENCODING: 'bad_request',
  CS_ERR_INPUT_TOO_LARGE: 'body_too_large',
  CS_ERR_RECORD_TOO_LARGE: 'body_too_large',
  CS_ERR_HTTP_RATE_LIMITED: 'rate_limited',
  CS_ERR_HTTP_BUSY: 'busy',
  CS_ERR_NO_WORKER: 'no_worker',
  CS_ERR_QUEUE_FULL: 'queue_full',
  CS_ERR_REDIS_UNAVAILABLE: 'redis_unavailable',
  CS_ERR_TIMEOUT: 'timeout',
  CS_ERR_DEADLINE_EXCEEDED: 'timeout',
  CS_ERR_OUTCOME_UNKNOWN: 'outcome_unknown',
};

export function rejectionReason(code: ErrorCode): RejectionReason {
  return REASON_OF[code] ?? 'failed';
}

interface FastifyLikeError {
  readonly code?: unknown;
  readonly statusCode?: unknown;
  readonly message?: unknown;
}

/**
 * Any error thrown while handling a request, as one of our codes: fastify's own errors (body
 * too large, malformed content) are mapped so every answer has the registry's status and a
 * JSON `{"error"}` body.
 */
export function toCsError(error: unknown, bodyLimit: number): CsError {
  if (isCsError(error)) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as FastifyLikeError;
  const code = typeof e.code === 'string' ? e.code : '';
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE' || e.statusCode === 413) {
    return new CsError(
      'CS_ERR_HTTP_BODY_TOO_LARGE',
      `the request body is larger than the limit of ${bodyLimit} bytes (bodyLimit)`,
    );
  }
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || e.statusCode === 415) {
    return new CsError('CS_ERR_HTTP_BAD_REQUEST', `unsupported content type: ${reasonOf(error)}`);
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new CsError('CS_ERR_HTTP_BAD_REQUEST', reasonOf(error));
  }
  if (isErrorCode(code)) return new CsError(code, reasonOf(error));
  return new CsError('CS_ERR_INTERNAL', reasonOf(error), { cause: error });
}

export function httpStatusOf(code: ErrorCode): number {
  return ERRORS[code].httpStatus;
}

/** Statuses after which a client may simply try again. */
export function retryAfterSeconds(status: number): number | undefined {
  return status === 503 || status === 429 ? 1 : undefined;
}

/** Rejects a missing or blank body of a prediction route with a message saying what was expected. */
export function bodyBytes(body: unknown, expected: string): Buffer {
  if (!Buffer.isBuffer(body) || isBlank(body)) {
    throw new CsError('CS_ERR_HTTP_BAD_REQUEST', `the request body is empty; expected ${expected}`);
  }
  return body;
}

function isBlank(bytes: Buffer): boolean {
  for (const c of bytes) if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return false;
  return true;
}
