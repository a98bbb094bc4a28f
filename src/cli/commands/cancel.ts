import { jobResultSchema } from '../../supervisor/protocol.js';
import { currentHome, request, supervisorAnswers } from '../supervisor-link.js';
import { reportAllHosts } from './all-hosts.js';
import { nothingRunning } from './stop.js';

export interface CancelOptions {
  readonly target: string;
  readonly json?: boolean;
  /** Also on every other host whose supervisor runs the job through the same Redis. */
  readonly allHosts?: boolean;
}

/** Immediate: the job's processes stop now; unprocessed entries stay in the stream. */
export async function runCancel(options: CancelOptions): Promise<number> {
  const paths = currentHome();
  if (!(await supervisorAnswers(paths))) throw nothingRunning(options.target, paths.home);
  const result = await request(paths, {
    type: 'cancel',
    target: options.target,
    ...(options.allHosts === true ? { allHosts: true } : {}),
  });
  if (options.allHosts === true) return reportAllHosts('cancelled', result, options.json === true);
  const { job } = jobResultSchema.parse(result);
  process.stdout.write(
    options.json === true
      ? `${JSON.stringify(job)}\n`
      : `cancelled ${job.name} (${job.id}); unprocessed entries stay queued for the next start\n`,
  );
  return 0;
}
