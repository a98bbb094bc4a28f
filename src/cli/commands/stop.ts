import { CsError } from '../../errors/registry.js';
import { jobResultSchema } from '../../supervisor/protocol.js';
import { reportAllHosts } from './all-hosts.js';
import { createProgress } from '../progress.js';
import { currentHome, request, supervisorAnswers } from '../supervisor-link.js';

export interface StopOptions {
  readonly target: string;
  readonly drainTimeoutMs: number;
  readonly json?: boolean;
  /** Also on every other host whose supervisor runs the job through the same Redis. */
  readonly allHosts?: boolean;
}

/** Graceful: what is queued now gets answered (bounded by the drain timeout); later entries stay queued. */
export async function runStop(options: StopOptions): Promise<number> {
  const paths = currentHome();
  if (!(await supervisorAnswers(paths))) throw nothingRunning(options.target, paths.home);
  const progress = createProgress();
  let result: unknown;
  try {
    result = await request(
      paths,
      {
        type: 'stop',
        target: options.target,
        drainTimeoutMs: options.drainTimeoutMs,
        ...(options.allHosts === true ? { allHosts: true } : {}),
      },
      { onProgress: (step) => progress.step(step) },
    );
  } catch (error) {
    progress.done(false);
    throw error;
  }
  progress.done(true);
  if (options.allHosts === true) return reportAllHosts('stopped', result, options.json === true);
  const { job } = jobResultSchema.parse(result);
  process.stdout.write(
    options.json === true
      ? `${JSON.stringify(job)}\n`
      : `stopped ${job.name} (${job.id}); entries that arrived later stay queued for the next start\n`,
  );
  return 0;
}

export function nothingRunning(target: string, home: string): CsError {
  return new CsError('CS_ERR_JOB_NOT_FOUND', `no job "${target}" is running: no supervisor runs for ${home}`);
}
