import { CsError, isErrorCode, type ErrorCode } from '../errors/registry.js';
import type { JobRecord, ProcessRecord } from './job-record.js';
import { tailLines } from './log-tail.js';
import type { ChildExit } from './managed-child.js';

/** `worker 2` or `HTTP frontend`, as messages name a process of a job. */
export function describeProcess(record: ProcessRecord): string {
  return record.role === 'worker' ? `worker ${record.slot}` : 'HTTP frontend';
}

/**
 * Why a process ended: its own fatal message when it sent one, else how it ended and the
 * last lines of its log (a stack trace, or what it logged last).
 */
export async function exitReason(
  record: ProcessRecord,
  fatal: { message: string } | undefined,
  exit: ChildExit,
): Promise<string> {
  const who = describeProcess(record);
  if (fatal !== undefined) return `${who}: ${fatal.message}`;
  const how = exit.signal !== null ? `was killed by ${exit.signal}` : `exited with code ${exit.code ?? '?'}`;
  const tail = await tailLines(record.logFile, 3);
  return tail.length === 0 ? `${who} ${how}` : `${who} ${how}: ${tail.join(' | ')}`;
}

export function startTimeoutError(record: JobRecord, now = Date.now()): CsError {
  const states = record.processes.map((p) => `${describeProcess(p)} ${p.state}`).join(', ');
  const seconds = Math.round((now - record.startedAt) / 100) / 10;
  return new CsError(
    'CS_ERR_START_TIMEOUT',
    `job ${record.name} was not ready after ${seconds} s (${states}); see cluster-serving logs ${record.id}, or give it more time with --timeout`,
  );
}

/** The worker's own error code when it sent a known one. */
export function fatalCode(code: string | undefined): ErrorCode {
  return code !== undefined && isErrorCode(code) ? code : 'CS_ERR_JOB_FAILED';
}
