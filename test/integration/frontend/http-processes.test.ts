import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mlpReference, writeModel } from '../../fixtures/onnx-models.js';
import { freePort, startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { waitFor } from '../../helpers/wait-for.js';
import { startWorker, writeConfig, type WorkerProcess } from '../../helpers/worker-process.js';
import { expectClose, forkFrontend, metricValue, postJson, seeded } from './frontend-harness.js';

const JOB = 'processes_job';

/** Pids of the processes whose parent is `pid`. */
async function childrenOf(pid: number): Promise<number[]> {
  const { readdir, readFile } = await import('node:fs/promises');
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) found.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('HTTP frontend with several processes (http.processes)', () => {
  let redis: TestRedis;
  let worker: WorkerProcess;
  let config: string;

  beforeAll(async () => {
    redis = await startRedis();
    const dir = await mkdtemp(join(tmpdir(), 'cs-http-processes-'));
    config = await writeConfig({
      modelPath: await writeModel(dir, 'mlp'),
      jobName: JOB,
      redisUrl: redis.url,
    });
    worker = await startWorker(config);
  });

  afterAll(async () => {
    await worker?.stop();
    await redis?.stop();
  });

  it('serves from two processes on one port, sums their metrics, and stops them all', async () => {
    const port = await freePort();
    const frontend = forkFrontend(['--config', config, '--port', String(port), '--processes', '2']);
    const ready = await waitFor(
      () => frontend.messages.find((m) => m.type === 'state' && m.state === 'ready'),
      {
        timeoutMs: 30_000,
        what: `frontend ready (stderr: ${frontend.stderr()})`,
      },
    );
    const url = `http://127.0.0.1:${port}`;
    expect(ready.url).toBe(url);
    const pids = await childrenOf(frontend.child.pid ?? 0);
    expect(pids).toHaveLength(2);

    // Many connections at once, so both processes take some; every answer is right.
    const inputs = Array.from({ length: 60 }, (_, i) => seeded(100 + i, 4));
    const answers = await Promise.all(
      inputs.map((x) =>
        postJson(`${url}/v2/models/${JOB}/infer`, {
          inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: Array.from(x) }],
        }),
      ),
    );
    answers.forEach((answer, i) => {
      expect(answer.status).toBe(200);
      const [output] = answer.body['outputs'] as { data: number[] }[];
      expectClose(output?.data ?? [], mlpReference(inputs[i]!, 1), `request ${i}`);
    });

    // Whichever process takes the scrape, the request count covers both.
    const route = `route="/v2/models/:name/infer"`;
    for (let scrape = 0; scrape < 4; scrape++) {
      expect(await metricValue(url, 'cs_http_request_duration_seconds_count', route)).toBe(60);
    }
    // The job's figures appear once, as read from Redis.
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text.split('\n').filter((l) => l.startsWith('cs_job_processed_records_total{'))).toHaveLength(1);
    expect(await metricValue(url, 'cs_job_processed_records_total')).toBeGreaterThanOrEqual(60);

    frontend.child.kill('SIGTERM');
    expect(await frontend.exited).toBe(0);
    expect(pids.filter(isAlive)).toEqual([]);
  });

  it('fails to start with the port in use, and leaves no process behind', async () => {
    const blocker = createServer();
    const port = await new Promise<number>((done) =>
      blocker.listen(0, '127.0.0.1', () => done((blocker.address() as { port: number }).port)),
    );
    try {
      const frontend = forkFrontend([
        '--config',
        config,
        '--interface',
        '127.0.0.1',
        '--port',
        String(port),
        '--processes',
        '2',
      ]);
      const code = await frontend.exited;
      expect(code).not.toBe(0);
      expect(frontend.messages.find((m) => m.type === 'fatal')?.code).toBe('CS_ERR_PORT_IN_USE');
      expect(frontend.stderr()).toContain(`port ${port} on 127.0.0.1 is already in use`);
      expect(await childrenOf(frontend.child.pid ?? 0)).toEqual([]);
    } finally {
      await new Promise((done) => blocker.close(done));
    }
  });
});
