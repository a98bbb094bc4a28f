import { existsSync } from 'node:fs';
import { jobsResultSchema } from '../../supervisor/protocol.js';
import { renderJobTable } from '../render.js';
import { currentHome, request, supervisorAnswers } from '../supervisor-link.js';

export interface ListOptions {
  readonly all: boolean;
  readonly json: boolean;
}

/**
 * JSON form: `{"jobs":[ListedJob...],"dashboard":url|null}`, the same fields whether or not a
 * supervisor runs.
 */
export async function runList(options: ListOptions): Promise<number> {
  const paths = currentHome();
  if (!(await supervisorAnswers(paths))) {
    if (options.json) process.stdout.write(`${JSON.stringify({ jobs: [], dashboard: null })}\n`);
    else process.stderr.write(`nothing is running (no supervisor for ${paths.home})\n`);
    if (existsSync(paths.stateFile)) {
      process.stderr.write(
        'the supervisor of this home ended without cleaning up; run cluster-serving shutdown\n',
      );
    }
    return 0;
  }
  const { jobs, dashboard } = jobsResultSchema.parse(
    await request(paths, { type: 'list', all: options.all }),
  );
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ jobs, dashboard })}\n`);
  } else if (jobs.length === 0) {
    process.stderr.write(
      options.all ? 'no jobs yet\n' : 'no job is running (cluster-serving list --all shows finished ones)\n',
    );
  } else {
    process.stdout.write(renderJobTable(jobs));
  }
  return 0;
}
