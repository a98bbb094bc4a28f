import { CsError } from '../../errors/registry.js';
import { allHostsResultSchema } from '../../supervisor/protocol.js';

/**
 * Prints what `stop|cancel --all-hosts` did; fails with CS_ERR_JOB_STILL_RUNNING when
 * workers of the job still heartbeat somewhere (a host that missed the command, or one
 * whose drain outlasted the wait), naming those hosts.
 */
export function reportAllHosts(verb: 'stopped' | 'cancelled', result: unknown, json: boolean): number {
  const { job, otherHosts, stillRunningOn } = allHostsResultSchema.parse(result);
  // With --json the failure below is the one JSON answer (stdout stays one object).
  if (json) {
    if (stillRunningOn.length === 0)
      process.stdout.write(`${JSON.stringify({ job, otherHosts, stillRunningOn })}\n`);
  } else {
    const others = otherHosts === 1 ? '1 other host' : `${otherHosts} other hosts`;
    process.stdout.write(`${verb} ${job.name} on this host and ${others}\n`);
  }
  if (stillRunningOn.length === 0) return 0;
  throw new CsError(
    'CS_ERR_JOB_STILL_RUNNING',
    `workers of ${job.name} still run on ${stillRunningOn.join(', ')}; run cluster-serving cancel ${job.name} there`,
  );
}
