import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputQueue } from '../../src/client/input-queue.js';
import { OutputQueue } from '../../src/client/output-queue.js';
import { writeModel } from '../fixtures/onnx-models.js';
import { CliHarness, exitOf } from '../helpers/cli.js';
import { freePort } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait-for.js';
import { expectMlpAnswer, queueFor, sample } from './e2e-support.js';

let cli: CliHarness;
let port: number;
const closers: (() => Promise<void>)[] = [];

beforeEach(async () => {
  cli = await CliHarness.create();
  port = await freePort();
});

afterEach(async () => {
  for (const close of closers.splice(0)) await close().catch(() => undefined);
  await cli.cleanup();
});

function queue(name: string): InputQueue {
  const q = queueFor(port, name);
  closers.push(() => q.close());
  return q;
}

function results(name: string): OutputQueue {
  const q = new OutputQueue({ redisUrl: `redis://127.0.0.1:${port}`, name });
  closers.push(() => q.close());
  return q;
}

async function startProject(
  dir: string,
  config: Record<string, string | number>,
  kind: 'mlp' | 'slow' = 'mlp',
) {
  const model = await writeModel(join(cli.root, 'models'), kind);
  const path = await cli.project(
    dir,
    { redisUrl: `localhost:${port}`, redisMaxmemory: '256mb', ...config },
    model,
  );
  const started = await cli.run(['start', '-c', path, '--timeout', '180']);
  expect(started.stderr).not.toContain('✖');
  expect(started.code, started.stderr).toBe(0);
  return path;
}

interface Listed {
  jobs: { name: string; state: string }[];
}

describe('several jobs, stop and cancel', { timeout: 180_000 }, () => {
  it('serves two jobs side by side on one Redis; cancelling one leaves the other serving', async () => {
    await startProject('one', { jobName: 'serving_stream', modelParallelism: 1 });
    await startProject('two', { jobName: 'serving2', modelParallelism: 1 });
    await expectMlpAnswer(queue('serving_stream'), 1);
    await expectMlpAnswer(queue('serving2'), 2);

    const cancelled = await cli.run(['cancel', 'serving2', '--json']);
    expect(cancelled.code).toBe(0);
    expect(JSON.parse(cancelled.stdout)).toMatchObject({ name: 'serving2', state: 'cancelled' });
    await expectMlpAnswer(queue('serving_stream'), 3);

    const listed = JSON.parse((await cli.run(['list', '--all', '--json'])).stdout) as Listed;
    expect(listed.jobs.map((j) => [j.name, j.state])).toEqual([
      ['serving_stream', 'running'],
      ['serving2', 'cancelled'],
    ]);
    const running = JSON.parse((await cli.run(['list', '--json'])).stdout) as Listed;
    expect(running.jobs.map((j) => j.name)).toEqual(['serving_stream']);

    const missing = await cli.run(['cancel', 'serving2']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('CS_ERR_JOB_NOT_FOUND');
  });

  it('stop answers every entry queued before it; entries written during the drain stay queued', async () => {
    await startProject('slow', { jobName: 'drainer', modelParallelism: 1, maxBatchSize: 1 }, 'slow');
    const input = queue('drainer');
    const image = { data: new Float32Array(3 * 64 * 64).fill(0.25), shape: [1, 3, 64, 64] };
    const early = Array.from({ length: 100 }, (_, i) => `early-${i}`);
    for (const uri of early) await input.enqueue(uri, { image });

    const stop = cli.spawn(['stop', 'drainer', '--drain-timeout', '120']);
    let stderr = '';
    stop.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    await waitFor(() => stderr.includes('draining drainer'), {
      what: 'the drain to begin',
      timeoutMs: 30_000,
    });
    const late = Array.from({ length: 5 }, (_, i) => `late-${i}`);
    for (const uri of late) await input.enqueue(uri, { image });
    expect(await exitOf(stop)).toBe(0);

    const output = results('drainer');
    for (const uri of early) expect((await output.query(uri)).status).toBe('tensors');
    for (const uri of late) expect((await output.query(uri)).status).toBe('pending');
    const listed = JSON.parse((await cli.run(['list', '--all', '--json'])).stdout) as Listed;
    expect(listed.jobs.map((j) => [j.name, j.state])).toEqual([['drainer', 'stopped']]);
  });

  it('cancel keeps unprocessed entries: written while cancelled, answered after the next start', async () => {
    const config = await startProject('keep', { jobName: 'keeper', modelParallelism: 1 });
    await expectMlpAnswer(queue('keeper'), 1);
    expect((await cli.run(['cancel', 'keeper'])).code).toBe(0);

    const input = queue('keeper');
    const uris = Array.from({ length: 10 }, (_, i) => `while-cancelled-${i}`);
    for (const [i, uri] of uris.entries())
      await input.enqueue(uri, { input: { data: sample(i), shape: [1, 4] } });
    const output = results('keeper');
    expect((await output.query(uris[0] ?? '')).status).toBe('pending');

    const again = await cli.run(['start', '-c', config, '--timeout', '180']);
    expect(again.code).toBe(0);
    await waitFor(
      async () => {
        const statuses = await Promise.all(uris.map(async (uri) => (await output.query(uri)).status));
        return statuses.every((status) => status === 'tensors');
      },
      { what: 'entries written while cancelled to be answered', timeoutMs: 60_000 },
    );
  });
});
