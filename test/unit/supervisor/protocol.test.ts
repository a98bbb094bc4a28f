import { describe, expect, it } from 'vitest';
import { jobsResultSchema } from '../../../src/supervisor/protocol.js';
import { RUNNING_JOB } from '../../fixtures/listed-job.js';

describe('supervisor protocol', () => {
  it('reads the list of a supervisor that predates queuedRequests: null, not a refusal', () => {
    const { queuedRequests, ...older } = RUNNING_JOB;
    expect(queuedRequests).not.toBeNull();
    const [job] = jobsResultSchema.parse({ jobs: [older] }).jobs;
    expect(job).toMatchObject({ name: RUNNING_JOB.name, queuedRequests: null });
  });
});
