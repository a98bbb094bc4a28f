import { CsError, isCsError, reasonOf } from '../errors/registry.js';
import { isConnectionError } from '../redis/connection.js';

/*
 * What a failed Redis command tells a producer about its entry:
 * - never sent: ioredis refused it before writing a byte (offline queue off, connection not
 *   ready or ended), so Redis never saw it: "not accepted", safe to retry;
 * - refused: Redis answered with an error (loading after a restart, out of memory, read-only
 *   replica...): a Lua call or XADD that errs adds nothing, so also "not accepted";
 * - anything else on a connection (closed, reset or timed out after the bytes left) may have
 *   been executed: "accepted, outcome unknown", and retrying may run the request twice.
 */

const NOT_SENT = /Stream isn't writeable/;

/** Error replies that mean Redis cannot take writes right now, rather than a bad command. */
const UNAVAILABLE_REPLY =
  /^(LOADING|BUSY|MASTERDOWN|READONLY|OOM|MISCONF|NOREPLICAS|TRYAGAIN|CLUSTERDOWN|NOAUTH|WRONGPASS)\b/;

function isReplyError(error: unknown): error is Error {
  return error instanceof Error && error.name === 'ReplyError';
}

/** The coded error for a write (XADD) that failed with `error`; `sent` is false when it never left the client. */
export function writeFailure(error: unknown, sent: boolean): CsError {
  if (isCsError(error)) return error;
  const reason = reasonOf(error);
  if (!sent || NOT_SENT.test(reason)) {
    return new CsError(
      'CS_ERR_REDIS_UNAVAILABLE',
      `Redis is not reachable, the request was not accepted (safe to retry): ${reason}`,
      { cause: error },
    );
  }
  if (isReplyError(error)) {
    return UNAVAILABLE_REPLY.test(reason)
      ? new CsError(
          'CS_ERR_REDIS_UNAVAILABLE',
          `Redis refused the request, it was not accepted (safe to retry): ${reason}`,
          { cause: error },
        )
      : new CsError('CS_ERR_INTERNAL', `Redis refused the request: ${reason}`, { cause: error });
  }
  return new CsError(
    'CS_ERR_OUTCOME_UNKNOWN',
    `the connection to Redis failed after the request was sent (${reason}): it may have been accepted and may still run; retry only if running it twice is harmless`,
    { cause: error },
  );
}

/** The coded error for anything else the client did against Redis (reads, cleanup, connecting). */
export function readFailure(error: unknown): CsError {
  if (isCsError(error)) return error;
  const reason = reasonOf(error);
  if (isConnectionError(error) || (isReplyError(error) && UNAVAILABLE_REPLY.test(reason))) {
    return new CsError('CS_ERR_REDIS_UNAVAILABLE', `Redis is not reachable: ${reason}`, { cause: error });
  }
  return new CsError('CS_ERR_INTERNAL', reason, { cause: error });
}
