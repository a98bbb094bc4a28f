import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createNetServer } from 'node:net';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Prediction } from '../../../src/frontend/backend.js';
import { loadHttpsCredentials, type HttpsCredentials } from '../../../src/frontend/https-credentials.js';
import { HttpsListener } from '../../../src/frontend/https-listener.js';
import { buildServer } from '../../../src/frontend/server.js';
import { silentLogger } from '../../../src/logging/logger.js';
import { waitFor } from '../../helpers/wait-for.js';
import { FakeBackend, httpOptions, rowSums } from './fake-backend.js';

let dir: string;
let credentials: HttpsCredentials;
let app: FastifyInstance | undefined;
let listener: HttpsListener | undefined;

/** A self-signed certificate for 127.0.0.1 (it is its own CA), plus an unrelated key. */
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cs-https-'));
  const run = (args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'key.pem',
    ].concat([
      '-out',
      'cert.pem',
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ]),
  );
  run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'other.pem']);
  credentials = loadHttpsCredentials({
    httpsCertPath: join(dir, 'cert.pem'),
    httpsKeyPath: join(dir, 'key.pem'),
  });
});

afterEach(async () => {
  await listener?.stop(1000);
  await app?.close();
  listener = undefined;
  app = undefined;
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function post(
  url: string,
  ca: Buffer,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', ca, agent: false, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> }),
        );
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe('loadHttpsCredentials', () => {
  it('reads the certificate subject and validity', () => {
    expect(credentials.subject).toBe('CN=127.0.0.1');
    expect(credentials.validTo.getTime()).toBeGreaterThan(Date.now());
  });

  it('refuses a key that does not belong to the certificate, and an unset path', () => {
    expect(() =>
      loadHttpsCredentials({ httpsCertPath: join(dir, 'cert.pem'), httpsKeyPath: join(dir, 'other.pem') }),
    ).toThrow(
      expect.objectContaining({
        code: 'CS_ERR_HTTPS_CERT_INVALID',
        message: expect.stringContaining('matching key'),
      }),
    );
    expect(() =>
      loadHttpsCredentials({ httpsCertPath: undefined, httpsKeyPath: join(dir, 'key.pem') }),
    ).toThrow(
      expect.objectContaining({
        code: 'CS_ERR_HTTPS_CERT_INVALID',
        message: expect.stringContaining('httpsCertPath is not set'),
      }),
    );
  });
});

describe('HttpsListener', () => {
  it('serves the app’s routes and shares its parallelism bound with the plain listener', async () => {
    const backend = new FakeBackend();
    const pending: (() => void)[] = [];
    backend.answer = (inputs, index) =>
      new Promise<Prediction>((resolve) => pending.push(() => resolve(rowSums(inputs, index) as Prediction)));
    app = buildServer({ backend, http: httpOptions({ parallelism: 1 }) });
    listener = new HttpsListener(app, credentials, silentLogger());
    expect(listener.state).toBe('idle');
    await listener.start('127.0.0.1', 0);
    expect(listener.state).toBe('listening');
    const url = `https://127.0.0.1:${listener.port}/predict`;
    const ca = await readFile(join(dir, 'cert.pem'));
    const body = { instances: [{ input: [1, 2, 3, 4] }] };

    const held = app.inject({ method: 'POST', url: '/predict', payload: JSON.stringify(body) });
    await waitFor(() => backend.submitted.length === 1, { what: 'the plain request in flight' });
    const refused = await post(url, ca, body);
    expect(refused.status).toBe(503);
    expect(String(refused.json['error'])).toContain('parallelism');
    for (const release of pending) release();
    expect((await held).statusCode).toBe(200);
    backend.answer = rowSums;
    const answered = await post(url, ca, body);
    expect(answered.status).toBe(200);
    expect(answered.json).toHaveProperty('predictions');

    await Promise.all([listener.stop(1000), listener.stop(1000)]);
    expect(listener.state).toBe('stopped');
    await expect(post(url, ca, body)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('answers a taken securePort with CS_ERR_PORT_IN_USE', async () => {
    const blocker = createNetServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      app = buildServer({ backend: new FakeBackend(), http: httpOptions() });
      listener = new HttpsListener(app, credentials, silentLogger());
      await expect(listener.start('127.0.0.1', port)).rejects.toThrow(
        expect.objectContaining({
          code: 'CS_ERR_PORT_IN_USE',
          message: expect.stringContaining(`securePort ${port}`),
        }),
      );
      expect(listener.state).toBe('stopped');
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
