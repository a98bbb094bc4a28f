import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeModel } from '../fixtures/onnx-models.js';
import { CliHarness } from '../helpers/cli.js';
import { freePort } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait-for.js';
import { expectMlpAnswer, queueFor } from './e2e-support.js';

let cli: CliHarness;
let port: number;

beforeEach(async () => {
  cli = await CliHarness.create();
  port = await freePort();
});

afterEach(async () => {
  await cli.cleanup();
});

interface Slot {
  role: string;
  slot: number;
  pid: number | null;
  state: string;
}

async function workerSlot(n: number): Promise<Slot | undefined> {
  const state = JSON.parse(await readFile(join(cli.home, 'state.json'), 'utf8')) as {
    jobs: { processes: Slot[] }[];
  };
  return state.jobs.at(-1)?.processes.find((p) => p.role === 'worker' && p.slot === n);
}

async function listed(): Promise<{ state: string; restarts: number; lastError: string | null }> {
  const result = await cli.run(['list', '--json']);
  const { jobs } = JSON.parse(result.stdout) as {
    jobs: { state: string; restarts: number; lastError: string | null }[];
  };
  const job = jobs[0];
  if (job === undefined) throw new Error(`no job listed: ${result.stdout} ${result.stderr}`);
  return job;
}

describe('a worker slot that keeps crashing', { timeout: 180_000 }, () => {
  it('backs off while the other worker serves; the job is degraded, not failed, and recovers', async () => {
    const model = await writeModel(join(cli.root, 'models'), 'mlp');
    const path = await cli.project(
      'd',
      { jobName: 'limping', modelParallelism: 2, redisUrl: `localhost:${port}`, redisMaxmemory: '64mb' },
      model,
    );
    expect((await cli.run(['start', '-c', path, '--timeout', '120'])).code).toBe(0);
    const queue = queueFor(port, 'limping');
    const kills = 5;
    try {
      for (let i = 1; i <= kills; i += 1) {
        const slot = await waitFor(
          async () => {
            const s = await workerSlot(1);
            return s?.state === 'ready' && s.pid !== null ? s : undefined;
          },
          { what: `worker 1 to be ready before kill ${i}`, timeoutMs: 60_000, intervalMs: 100 },
        );
        process.kill(slot.pid ?? 0, 'SIGKILL');
        if (i === kills) {
          // Five crashes within a minute: before, the whole job failed here. Now the slot waits
          // several seconds (its backoff) and the job says it serves with fewer workers.
          await waitFor(async () => ((await listed()).state === 'degraded' ? true : undefined), {
            what: 'the job to show degraded',
            intervalMs: 100,
          });
        }
        // Worker 2 answers meanwhile.
        await expectMlpAnswer(queue, i);
        await waitFor(async () => (await workerSlot(1))?.pid !== slot.pid, {
          what: `worker 1 to be relaunched after kill ${i}`,
          timeoutMs: 90_000,
          intervalMs: 100,
        });
      }
      const recovered = await waitFor(
        async () => {
          const job = await listed();
          if (job.state === 'failed') throw new Error(`the job failed: ${job.lastError ?? ''}`);
          return job.state === 'running' ? job : undefined;
        },
        { what: 'the job to be running again with both workers', timeoutMs: 90_000, intervalMs: 250 },
      );
      expect(recovered.restarts).toBe(kills);
      expect(recovered.lastError).toContain('worker 1 was killed by SIGKILL');
    } finally {
      await queue.close();
    }
  });
});
