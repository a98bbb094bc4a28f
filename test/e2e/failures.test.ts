import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeModel } from '../fixtures/onnx-models.js';
import { CliHarness, portAnswers } from '../helpers/cli.js';
import { freePort } from '../helpers/redis-server.js';
import { startOldRedis } from './e2e-support.js';

let cli: CliHarness;
let port: number;
let model: string;
const servers: Server[] = [];

beforeEach(async () => {
  cli = await CliHarness.create();
  port = await freePort();
  model = await writeModel(join(cli.root, 'models'), 'mlp');
});

afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
  await cli.cleanup();
});

function base(jobName: string): Record<string, string | number> {
  return { jobName, modelParallelism: 1, redisUrl: `localhost:${port}`, redisMaxmemory: '64mb' };
}

/** Only the supervisor may remain after a failed start: no worker of the attempt. */
async function expectNoWorkers(): Promise<void> {
  const identity = JSON.parse(
    await readFile(join(cli.home, 'supervisor.pid'), 'utf8').catch(() => '{"pid":0}'),
  ) as {
    pid: number;
  };
  expect(cli.processesOfHome().filter((pid) => pid !== identity.pid)).toEqual([]);
}

describe('start failure paths', { timeout: 180_000 }, () => {
  it('a model that makes the worker fail at load: start fails with the reason, list shows failed', async () => {
    const bytes = await readFile(model);
    const corrupt = join(cli.root, 'models', 'corrupt.onnx');
    await writeFile(corrupt, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const config = await cli.project('bad', base('corrupt'), corrupt);
    const result = await cli.run(['start', '-c', config, '--timeout', '120']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/worker 1: .*corrupt\.onnx/);
    expect(result.stderr).toContain('CS_ERR_MODEL_LOAD');
    await expectNoWorkers();
    expect(await portAnswers(port)).toBe(false);
    const listed = JSON.parse((await cli.run(['list', '--all', '--json'])).stdout) as {
      jobs: { name: string; state: string; lastError: string }[];
    };
    expect(listed.jobs).toHaveLength(1);
    expect(listed.jobs[0]).toMatchObject({ name: 'corrupt', state: 'failed' });
    expect(listed.jobs[0]?.lastError).toContain('corrupt.onnx');
    const table = await cli.run(['list', '--all']);
    expect(table.stdout).toMatch(/corrupt \([0-9a-f]{8}\) failed: worker 1: /);
    const logs = await cli.run(['logs', 'corrupt']);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/worker-1 +ERROR/);
  });

  it('an invalid config exits 2 listing every problem, and starts nothing', async () => {
    const config = await cli.project(
      'invalid',
      { ...base('bad name!'), modelParalelism: 2, maxBatchSize: 'many' },
      model,
    );
    const result = await cli.run(['start', '-c', config]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('CS_ERR_CONFIG_INVALID');
    expect(result.stderr).toContain('modelParalelism');
    expect(result.stderr).toContain('modelParallelism');
    expect(result.stderr).toContain('maxBatchSize');
    expect(result.stderr).toContain('jobName');
    expect(cli.processesOfHome()).toEqual([]);
  });

  it('no config file exits 2 and says how to write one', async () => {
    await mkdir(join(cli.root, 'empty'));
    const result = await cli.run([], { bin: 'cluster-serving-start.js', cwd: join(cli.root, 'empty') });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('CS_ERR_CONFIG_NOT_FOUND');
    expect(result.stderr).toContain('cluster-serving init');
  });

  it('a missing model exits 1 naming the path', async () => {
    const config = await cli.project('nomodel', base('nomodel'), join(cli.root, 'models', 'absent.onnx'));
    const result = await cli.run(['start', '-c', config]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('CS_ERR_MODEL_NOT_FOUND');
    expect(result.stderr).toContain('absent.onnx');
  });

  it('a Redis port held by something else exits 1 with CS_ERR_PORT_IN_USE', async () => {
    const squatter = createServer((socket) => {
      socket.resume();
      socket.end('SSH-2.0-OpenSSH_9.0\r\n');
    });
    servers.push(squatter);
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    const config = await cli.project('squat', base('squat'), model);
    const result = await cli.run(['start', '-c', config]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('CS_ERR_PORT_IN_USE');
    expect(result.stderr).toContain(`port ${port}`);
    await expectNoWorkers();
  });

  it('without redis-server on PATH exits 1 and says how to install it', async () => {
    const bin = join(cli.root, 'bin');
    await mkdir(bin);
    await symlink(process.execPath, join(bin, 'node'));
    const config = await cli.project('nobin', base('nobin'), model);
    const result = await cli.run(['start', '-c', config], { env: { PATH: bin } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('CS_ERR_REDIS_NOT_INSTALLED');
    expect(result.stderr).toContain('apt-get install redis-server');
    expect(result.stderr).toContain('brew install redis');
  });

  it('a Redis older than 6.2 exits 1 with CS_ERR_REDIS_VERSION', async () => {
    servers.push(await startOldRedis(port));
    const config = await cli.project('old', base('old'), model);
    const result = await cli.run(['start', '-c', config]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('CS_ERR_REDIS_VERSION');
    expect(result.stderr).toContain('6.0.5');
    await expectNoWorkers();
  });

  it('a remote Redis that does not answer exits 1 with CS_ERR_REDIS_UNAVAILABLE', async () => {
    const config = await cli.project('remote', { ...base('remote'), redisUrl: 'redis.invalid:6379' }, model);
    const result = await cli.run(['start', '-c', config]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('CS_ERR_REDIS_UNAVAILABLE');
    expect(result.stderr).toContain('redis.invalid');
  });

  it('a jobName already running is refused; a timeout fails and leaves no worker', async () => {
    const config = await cli.project('dup', base('dup'), model);
    expect((await cli.run(['start', '-c', config, '--timeout', '120'])).code).toBe(0);
    const second = await cli.run(['start', '-c', config, '--timeout', '120']);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('CS_ERR_JOB_RUNNING');
    expect(second.stderr).toContain('cluster-serving stop dup');

    const other = await cli.project('late', base('late'), model);
    const timedOut = await cli.run(['start', '-c', other, '--timeout', '0.001']);
    expect(timedOut.code).toBe(1);
    expect(timedOut.stderr).toContain('CS_ERR_START_TIMEOUT');
    expect(timedOut.stderr).toContain('--timeout');
    const listed = JSON.parse((await cli.run(['list', '--all', '--json'])).stdout) as {
      jobs: { name: string; state: string }[];
    };
    expect(listed.jobs.map((j) => [j.name, j.state])).toEqual([
      ['dup', 'running'],
      ['late', 'failed'],
    ]);
  });

  it('usage errors exit 2', async () => {
    expect((await cli.run(['start', '--timeout', '-3'])).code).toBe(2);
    expect((await cli.run(['stop'])).code).toBe(2);
    expect((await cli.run(['frobnicate'])).code).toBe(2);
    const deep = join(cli.root, 'd'.repeat(120));
    const tooDeep = await cli.run(['start', '-c', await cli.project('deep', base('deep'), model)], {
      env: { CLUSTER_SERVING_HOME: deep },
    });
    expect(tooDeep.code).toBe(2);
    expect(tooDeep.stderr).toContain('set CLUSTER_SERVING_HOME to a shorter path');
    const init = await cli.run(['init', cli.root]);
    expect(init.code).toBe(0);
    const again = await cli.run(['init', cli.root]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('--force');
  });
});
