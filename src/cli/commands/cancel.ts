import { jobResultSchema } from '../../supervisor/protocol.js';
import { currentHome, request, supervisorAnswers } from '../supervisor-link.js';
import { nothingRunning } from './stop.js';

export interface CancelOptions {
  readonly target: string;
  readonly json?: boolean;
}

/** Immediate: the job's processes stop now; unprocessed entries stay in the stream. */
export async function runCancel(options: CancelOptions): Promise<number> {
  const paths = currentHome();
  if (!(await supervisorAnswers(paths))) throw nothingRunning(options.target, paths.home);
  const { job } = jobResultSchema.parse(await request(paths, { type: 'cancel', target: options.target }));
  process.stdout.write(
    options.json === true
      ? `${JSON.stringify(job)}\n`
      : `cancelled ${job.name} (${job.id}); unprocessed entries stay queued for the next start\n`,
  );
  return 0;
}
