/**
 * The one error registry. Every error the product raises on purpose has a code
 * `CS_ERR_<AREA>_<WHAT>`, the exit code a CLI command ends with when it is the cause,
 * and the HTTP status the frontend answers with.
 */
export const ERRORS = {
  CS_ERR_CONFIG_INVALID: { exitCode: 2, httpStatus: 500, summary: 'config.yaml is invalid' },
  CS_ERR_CONFIG_REDIS_PASSWORD: {
    exitCode: 2,
    httpStatus: 500,
    summary: 'a Redis served to other hosts needs a password',
  },
  CS_ERR_CONFIG_NOT_FOUND: { exitCode: 2, httpStatus: 500, summary: 'config file not found' },
  CS_ERR_CLI_USAGE: { exitCode: 2, httpStatus: 400, summary: 'wrong command-line usage' },
  CS_ERR_MODEL_NOT_FOUND: { exitCode: 1, httpStatus: 500, summary: 'model file not found' },
  CS_ERR_MODEL_LOAD: { exitCode: 1, httpStatus: 500, summary: 'model could not be loaded' },
  CS_ERR_INPUT_DECODE: { exitCode: 1, httpStatus: 400, summary: 'input could not be decoded' },
  CS_ERR_INPUT_MISMATCH: { exitCode: 1, httpStatus: 400, summary: 'input does not match the model' },
  CS_ERR_INPUT_UNSUPPORTED: { exitCode: 1, httpStatus: 400, summary: 'input kind is not supported' },
  CS_ERR_INPUT_TOO_LARGE: { exitCode: 1, httpStatus: 413, summary: 'input is too large' },
  CS_ERR_RECORD_TOO_LARGE: {
    exitCode: 1,
    httpStatus: 413,
    summary: 'one record is over maxRecordBatch or maxRecordBytes',
  },
  CS_ERR_INFERENCE_FAILED: { exitCode: 1, httpStatus: 500, summary: 'inference failed' },
  CS_ERR_DEADLINE_EXCEEDED: { exitCode: 1, httpStatus: 504, summary: 'no result before the deadline' },
  CS_ERR_POISON_RECORD: { exitCode: 1, httpStatus: 500, summary: 'record was delivered too many times' },
  CS_ERR_QUEUE_FULL: { exitCode: 1, httpStatus: 503, summary: 'the job queue is full' },
  CS_ERR_NO_WORKER: { exitCode: 1, httpStatus: 503, summary: 'no live worker serves the job' },
  CS_ERR_REDIS_UNAVAILABLE: { exitCode: 1, httpStatus: 503, summary: 'Redis is not reachable' },
  CS_ERR_REDIS_VERSION: { exitCode: 1, httpStatus: 503, summary: 'Redis is older than 6.2' },
  CS_ERR_REDIS_REPLICAS: {
    exitCode: 1,
    // The entry was written: like every "accepted, outcome unknown" answer, a 504, not a retryable 503.
    httpStatus: 504,
    summary: 'too few replicas confirmed the entry (outcome unknown)',
  },
  CS_ERR_REDIS_NOT_INSTALLED: { exitCode: 1, httpStatus: 500, summary: 'redis-server is not installed' },
  CS_ERR_PORT_IN_USE: { exitCode: 1, httpStatus: 500, summary: 'port already in use' },
  CS_ERR_HTTPS_CERT_INVALID: { exitCode: 2, httpStatus: 500, summary: 'HTTPS certificate or key unusable' },
  CS_ERR_JOB_RUNNING: { exitCode: 1, httpStatus: 409, summary: 'job is already running' },
  CS_ERR_JOB_NOT_FOUND: { exitCode: 1, httpStatus: 404, summary: 'no such job' },
  CS_ERR_JOB_STILL_RUNNING: {
    exitCode: 1,
    httpStatus: 504,
    summary: 'job still runs on other hosts',
  },
  CS_ERR_JOB_FAILED: { exitCode: 1, httpStatus: 500, summary: 'job failed' },
  CS_ERR_START_TIMEOUT: { exitCode: 1, httpStatus: 504, summary: 'job did not become ready in time' },
  CS_ERR_SUPERVISOR_UNAVAILABLE: { exitCode: 1, httpStatus: 503, summary: 'supervisor is not reachable' },
  CS_ERR_TIMEOUT: { exitCode: 1, httpStatus: 504, summary: 'timed out waiting for a result' },
  CS_ERR_OUTCOME_UNKNOWN: {
    exitCode: 1,
    httpStatus: 504,
    summary: 'accepted, but its result was lost: it may have run',
  },
  CS_ERR_HTTP_BAD_REQUEST: { exitCode: 1, httpStatus: 400, summary: 'bad request' },
  CS_ERR_HTTP_MODEL_NOT_FOUND: { exitCode: 1, httpStatus: 404, summary: 'unknown model' },
  CS_ERR_HTTP_NOT_FOUND: { exitCode: 1, httpStatus: 404, summary: 'no such route' },
  CS_ERR_HTTP_BODY_TOO_LARGE: { exitCode: 1, httpStatus: 413, summary: 'request body too large' },
  CS_ERR_HTTP_URI_TOO_LONG: { exitCode: 1, httpStatus: 414, summary: 'request URI too long' },
  CS_ERR_HTTP_HEADERS_TOO_LARGE: { exitCode: 1, httpStatus: 431, summary: 'request headers too large' },
  CS_ERR_HTTP_REQUEST_TIMEOUT: { exitCode: 1, httpStatus: 408, summary: 'request not received in time' },
  CS_ERR_HTTP_ENCODING: {
    exitCode: 1,
    httpStatus: 415,
    summary: 'request Content-Encoding not supported',
  },
  CS_ERR_HTTP_RATE_LIMITED: { exitCode: 1, httpStatus: 429, summary: 'rate limited' },
  CS_ERR_HTTP_BUSY: { exitCode: 1, httpStatus: 503, summary: 'too many requests in flight' },
  CS_ERR_DASHBOARD_HOST: {
    exitCode: 1,
    httpStatus: 403,
    summary: 'dashboard reached under an unknown Host name',
  },
  CS_ERR_DASHBOARD_FORBIDDEN: {
    exitCode: 1,
    httpStatus: 403,
    summary: 'dashboard action without its Origin or token',
  },
  CS_ERR_INTERNAL: { exitCode: 1, httpStatus: 500, summary: 'internal error' },
} as const satisfies Record<string, { exitCode: number; httpStatus: number; summary: string }>;

export type ErrorCode = keyof typeof ERRORS;

export class CsError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  readonly httpStatus: number;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CsError';
    this.code = code;
    this.exitCode = ERRORS[code].exitCode;
    this.httpStatus = ERRORS[code].httpStatus;
  }
}

export function isCsError(value: unknown): value is CsError {
  return value instanceof CsError;
}

/** A readable one-line reason for anything thrown. */
export function reasonOf(value: unknown): string {
  if (value instanceof Error) return value.message;
  return String(value);
}

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERRORS, value);
}
