import { CsError } from '../../errors/registry.js';
import { clearResultSchema, type ClearResult } from '../../supervisor/protocol.js';
import { currentHome, request, supervisorAnswers } from '../supervisor-link.js';

export interface ClearOptions {
  /** A finished job's name or id; every finished job when undefined. */
  readonly target: string | undefined;
  readonly json: boolean;
}

/**
 * Forgets finished (stopped, cancelled, failed) jobs: they leave `list --all` and the
 * dashboard. Running jobs are never touched; their logs stay on disk.
 */
export async function runClear(options: ClearOptions): Promise<number> {
  const paths = currentHome();
  let result: ClearResult = { cleared: [] };
  if (await supervisorAnswers(paths)) {
    result = clearResultSchema.parse(
      await request(paths, {
        type: 'clear',
        ...(options.target === undefined ? {} : { target: options.target }),
      }),
    );
  } else if (options.target !== undefined) {
    throw new CsError(
      'CS_ERR_JOB_NOT_FOUND',
      `no finished job is named or has id "${options.target}": no supervisor runs for ${paths.home}`,
    );
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else if (result.cleared.length === 0) {
    process.stderr.write('no finished job to clear\n');
  } else {
    const names = result.cleared.map((job) => `${job.name} (${job.id}, ${job.state})`).join(', ');
    const count = result.cleared.length;
    process.stdout.write(`cleared ${count} finished job${count === 1 ? '' : 's'}: ${names}\n`);
  }
  return 0;
}
