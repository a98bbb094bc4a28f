import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeModel } from '../fixtures/onnx-models.js';
import { CliHarness } from '../helpers/cli.js';
import { freePort, startRedis, type TestRedis } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait-for.js';

interface Probe {
  readonly status: number;
  readonly body: { status?: string; state?: string; reason?: string; error?: string };
}

async function probe(port: number, path: string, method = 'GET'): Promise<Probe> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: response.status, body: (await response.json()) as Probe['body'] };
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('cluster-serving worker --health-port (Kubernetes probes)', () => {
  let cli: CliHarness;
  let redis: TestRedis;
  let model: string;

  beforeAll(async () => {
    cli = await CliHarness.create();
    redis = await startRedis();
    model = await writeModel(join(cli.root, 'models'), 'mlp');
  });

  afterAll(async () => {
    await cli.cleanup();
    await redis.stop();
  });

  it('is live while it serves, ready only with the model loaded and Redis answering, and exits 0 on SIGTERM', async () => {
    const redisPort = redis.port;
    const config = await cli.project('probes', { jobName: 'probes', redisUrl: redis.url }, model);
    const port = await freePort();
    const worker = cli.spawn([
      'worker',
      '-c',
      config,
      '--health-port',
      String(port),
      '--health-host',
      '127.0.0.1',
    ]);
    let stderr = '';
    worker.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = exitOf(worker);

    const ready = await waitFor(
      async () => {
        if (worker.exitCode !== null) throw new Error(`worker exited ${worker.exitCode}: ${stderr}`);
        const answer = await probe(port, '/readyz');
        return answer.status === 200 && answer;
      },
      { timeoutMs: 60_000, what: 'GET /readyz answering 200' },
    );
    expect(ready.body).toEqual({ status: 'ready', state: 'ready' });
    expect(await probe(port, '/healthz')).toEqual({ status: 200, body: { status: 'live', state: 'ready' } });
    expect((await probe(port, '/nope')).status).toBe(404);
    expect((await probe(port, '/readyz', 'POST')).status).toBe(405);

    // Redis gone: the worker is no longer ready (it waits for Redis), but it is alive.
    await redis.stop();
    const notReady = await waitFor(
      async () => {
        const answer = await probe(port, '/readyz');
        return answer.status === 503 && answer;
      },
      { what: 'GET /readyz answering 503 without Redis' },
    );
    expect(notReady.body.reason).toMatch(/Redis does not answer/);
    expect((await probe(port, '/healthz')).status).toBe(200);

    redis = await startRedis({ port: redisPort });
    await waitFor(async () => (await probe(port, '/readyz')).status === 200, {
      timeoutMs: 30_000,
      what: 'GET /readyz back to 200 once Redis is back',
    });

    worker.kill('SIGTERM');
    expect(await exited).toBe(0);
    await waitFor(
      async () => {
        try {
          await probe(port, '/healthz');
          return false;
        } catch {
          return true;
        }
      },
      { what: 'the health port closed after the exit' },
    );
  });

  it('refuses a health port that is not a port number (exit 2) or already taken (exit 1)', async () => {
    const config = await cli.project('probes-bad', { jobName: 'probes_bad', redisUrl: redis.url }, model);
    const wrong = await cli.run(['worker', '-c', config, '--health-port', 'eighty']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('CS_ERR_CLI_USAGE');
    expect(wrong.stderr).toContain('--health-port expects a port number');

    const hostAlone = await cli.run(['worker', '-c', config, '--health-host', '127.0.0.1']);
    expect(hostAlone.code).toBe(2);
    expect(hostAlone.stderr).toContain('--health-host needs --health-port');

    const port = await freePort();
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve));
    try {
      const busy = await cli.run([
        'worker',
        '-c',
        config,
        '--health-port',
        String(port),
        '--health-host',
        '127.0.0.1',
      ]);
      expect(busy.code).toBe(1);
      expect(busy.stderr).toContain('CS_ERR_PORT_IN_USE');
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });
});
