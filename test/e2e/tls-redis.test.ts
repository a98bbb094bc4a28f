import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputQueue } from '../../src/client/input-queue.js';
import { writeModel } from '../fixtures/onnx-models.js';
import { CliHarness, exitOf } from '../helpers/cli.js';
import { freePort } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait-for.js';
import { sample } from './e2e-support.js';

let cli: CliHarness;
let redis: ChildProcess | undefined;

beforeEach(async () => {
  cli = await CliHarness.create();
});

afterEach(async () => {
  await cli.cleanup();
  if (redis !== undefined && redis.exitCode === null) {
    redis.kill('SIGKILL');
    await exitOf(redis);
  }
});

/** A private CA and a server certificate for 127.0.0.1 signed by it, made with openssl. */
async function certificates(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const at = (name: string): string => join(dir, name);
  const openssl = (args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'ignore' });
  };
  openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    at('ca.key'),
    '-out',
    at('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=cluster-serving test CA',
  ]);
  openssl([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    at('server.key'),
    '-out',
    at('server.csr'),
    '-subj',
    '/CN=127.0.0.1',
  ]);
  await writeFile(at('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl([
    'x509',
    '-req',
    '-in',
    at('server.csr'),
    '-CA',
    at('ca.pem'),
    '-CAkey',
    at('ca.key'),
    '-CAcreateserial',
    '-out',
    at('server.pem'),
    '-days',
    '2',
    '-extfile',
    at('ext.cnf'),
  ]);
  return { ca: at('ca.pem'), cert: at('server.pem'), key: at('server.key') };
}

describe('a TLS Redis with a private CA (redisSecureTrustStorePath)', { timeout: 180_000 }, () => {
  it('serves through it, and list reads the job figures through it', async () => {
    const { ca, cert, key } = await certificates(cli.root);
    const port = await freePort();
    redis = spawn(
      'redis-server',
      [
        '--port',
        '0',
        '--tls-port',
        String(port),
        '--tls-cert-file',
        cert,
        '--tls-key-file',
        key,
        '--tls-ca-cert-file',
        ca,
        '--tls-auth-clients',
        'no',
        '--save',
        '',
        '--appendonly',
        'no',
      ],
      { stdio: 'ignore' },
    );
    const url = `rediss://127.0.0.1:${port}`;
    const model = await writeModel(join(cli.root, 'models'), 'mlp');
    const config = await cli.project(
      'tls',
      {
        jobName: 'tls_job',
        redisUrl: url,
        redisSecureEnabled: true,
        redisSecureTrustStorePath: ca,
        modelParallelism: 1,
      },
      model,
    );
    const started = await waitFor(
      async () => {
        const run = await cli.run(['start', '-c', config, '--timeout', '120']);
        return run.code === 0 ? run : undefined;
      },
      { timeoutMs: 60_000, what: 'start against the TLS Redis' },
    );
    expect(started.stdout).toContain('tls_job');

    const queue = new InputQueue({ redisUrl: url, name: 'tls_job', caFile: ca, timeoutMs: 30_000 });
    try {
      for (let i = 0; i < 3; i++) {
        const answer = await queue.predict({ input: { data: sample(i), shape: [1, 4], type: 'FP32' } });
        expect(answer.kind).toBe('tensors');
      }
    } finally {
      await queue.close();
    }
    const listed = JSON.parse((await cli.run(['list', '--json'])).stdout) as {
      jobs: { name: string; processed: number | null }[];
    };
    expect(listed.jobs.find((j) => j.name === 'tls_job')?.processed).toBe(3);
    expect((await cli.run(['shutdown'])).code).toBe(0);
  });
});
