import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeModel } from '../fixtures/onnx-models.js';
import { CliHarness } from '../helpers/cli.js';
import { freePort } from '../helpers/redis-server.js';

let cli: CliHarness;
let redisPort: number;

beforeEach(async () => {
  cli = await CliHarness.create();
  redisPort = await freePort();
});

afterEach(async () => {
  await cli.cleanup();
});

interface Listed {
  jobs: { id: string; name: string; state: string }[];
}

async function listedAll(): Promise<[string, string][]> {
  const listed = JSON.parse((await cli.run(['list', '--all', '--json'])).stdout) as Listed;
  return listed.jobs.map((job) => [job.name, job.state]);
}

async function recordedNames(): Promise<string[]> {
  const state = JSON.parse(await readFile(join(cli.home, 'state.json'), 'utf8')) as Listed;
  return state.jobs.map((job) => job.name).sort();
}

describe('cluster-serving clear', { timeout: 240_000 }, () => {
  it('forgets finished jobs, one by name or all, in list --all, the dashboard and state.json; running jobs stay', async () => {
    const dashboardPort = await freePort();
    const env = { CLUSTER_SERVING_DASHBOARD: `127.0.0.1:${dashboardPort}` };
    const model = await writeModel(join(cli.root, 'models'), 'mlp');
    const corrupt = join(cli.root, 'models', 'corrupt.onnx');
    const bytes = await readFile(model);
    await writeFile(corrupt, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const base = { modelParallelism: 1, redisUrl: `localhost:${redisPort}`, redisMaxmemory: '64mb' };
    const start = async (jobName: string, modelFile: string): Promise<number> => {
      const path = await cli.project(jobName, { jobName, ...base }, modelFile);
      return (await cli.run(['start', '-c', path, '--timeout', '120'], { env })).code;
    };

    expect(await start('broken', corrupt)).toBe(1);
    expect(await start('keeper', model)).toBe(0);
    expect(await start('gone', model)).toBe(0);
    expect((await cli.run(['cancel', 'gone'])).code).toBe(0);
    expect(await listedAll()).toEqual([
      ['keeper', 'running'],
      ['gone', 'cancelled'],
      ['broken', 'failed'],
    ]);

    const running = await cli.run(['clear', 'keeper']);
    expect(running.code).toBe(1);
    expect(running.stderr).toMatch(/keeper \([0-9a-f]{8}\) is running, not finished.*\[CS_ERR_JOB_RUNNING\]/);
    const unknown = await cli.run(['clear', 'nosuch', '--json']);
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stdout)).toMatchObject({ error: { code: 'CS_ERR_JOB_NOT_FOUND' } });

    const one = await cli.run(['clear', 'broken', '--json']);
    expect(one.code, one.stderr).toBe(0);
    expect(JSON.parse(one.stdout)).toMatchObject({ cleared: [{ name: 'broken', state: 'failed' }] });
    expect(await listedAll()).toEqual([
      ['keeper', 'running'],
      ['gone', 'cancelled'],
    ]);
    const page = await (await fetch(`http://127.0.0.1:${dashboardPort}/`)).text();
    expect(page).toContain('gone');
    expect(page).not.toContain('broken');

    const rest = await cli.run(['clear']);
    expect(rest.code, rest.stderr).toBe(0);
    expect(rest.stdout).toMatch(/^cleared 1 finished job: gone \([0-9a-f]{8}, cancelled\)$/m);
    expect(await listedAll()).toEqual([['keeper', 'running']]);
    expect(await recordedNames()).toEqual(['keeper']);

    const nothing = await cli.run(['clear']);
    expect(nothing.code).toBe(0);
    expect(nothing.stderr).toContain('no finished job to clear');
  });
});
