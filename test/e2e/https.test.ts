/**
 * BigDL's HTTPS options end to end: certificates made here with openssl (a CA, a server
 * certificate for 127.0.0.1 signed by it), the real CLI, real HTTPS requests trusting that CA.
 */
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeModel } from '../fixtures/onnx-models.js';
import { CliHarness, exitOf } from '../helpers/cli.js';
import { freePort, startRedis, type TestRedis } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait-for.js';

let cli: CliHarness;
let redis: TestRedis;
let tls: { ca: string; cert: string; key: string; otherKey: string; dir: string };

function openssl(args: readonly string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

/** A CA and a server certificate for 127.0.0.1 / localhost signed by it, plus an unrelated key. */
async function makeCertificates(dir: string): Promise<typeof tls> {
  const key = (name: string): void =>
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', name], dir);
  key('ca-key.pem');
  openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      'ca-key.pem',
      '-subj',
      '/CN=cluster-serving test CA',
      '-days',
      '2',
      '-out',
      'ca.pem',
    ],
    dir,
  );
  key('server-key.pem');
  openssl(['req', '-new', '-key', 'server-key.pem', '-subj', '/CN=127.0.0.1', '-out', 'server.csr'], dir);
  await writeFile(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca-key.pem',
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      'san.ext',
      '-out',
      'server.pem',
    ],
    dir,
  );
  key('other-key.pem');
  return {
    ca: join(dir, 'ca.pem'),
    cert: join(dir, 'server.pem'),
    key: join(dir, 'server-key.pem'),
    otherKey: join(dir, 'other-key.pem'),
    dir,
  };
}

/** One HTTPS request trusting only `ca` (none: the system's CAs). */
function httpsCall(
  url: string,
  ca: Buffer | undefined,
  body?: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: body === undefined ? 'GET' : 'POST',
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        ...(ca === undefined ? {} : { ca }),
        agent: false,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error(`no answer from ${url}`)));
    req.end(body);
  });
}

beforeEach(async () => {
  cli = await CliHarness.create();
  redis = await startRedis();
  tls = await makeCertificates(cli.root);
});

afterEach(async () => {
  await cli.cleanup();
  await redis.stop();
});

function frontendArgs(httpPort: number, securePort: number, extra: readonly string[]): string[] {
  return [
    'http',
    '--interface',
    '127.0.0.1',
    '--port',
    String(httpPort),
    '--securePort',
    String(securePort),
    '--redisPort',
    String(redis.port),
    '--redisInputQueue',
    'secure',
    ...extra,
  ];
}

describe('HTTPS (httpsEnabled, securePort, PEM files)', () => {
  it('`cluster-serving http` serves HTTPS on securePort and plain HTTP on port', async () => {
    const [httpPort, securePort] = [await freePort(), await freePort()];
    const frontend = cli.spawn(
      frontendArgs(httpPort, securePort, [
        '--httpsEnabled',
        'true',
        '--httpsCertPath',
        tls.cert,
        '--httpsKeyPath',
        tls.key,
      ]),
    );
    const ca = await readFile(tls.ca);
    const secure = await waitFor(
      () => httpsCall(`https://127.0.0.1:${securePort}/`, ca).catch(() => undefined),
      { what: 'the HTTPS listener to answer', timeoutMs: 60_000 },
    );
    expect(secure).toEqual({ status: 200, text: 'welcome to BigDL web serving frontend' });
    const plain = await fetch(`http://127.0.0.1:${httpPort}/`);
    expect(await plain.text()).toBe('welcome to BigDL web serving frontend');
    // Really TLS with our certificate: a client without the CA refuses it.
    await expect(httpsCall(`https://127.0.0.1:${securePort}/`, undefined)).rejects.toThrow(
      /self.signed|unable to (get|verify)/i,
    );
    // Plain HTTP sent to the HTTPS port fails for that client alone.
    const wrongScheme = await fetch(`http://127.0.0.1:${securePort}/`).then(
      (r) => r.status,
      () => 'refused',
    );
    expect(wrongScheme).not.toBe(200);
    // Bad input over HTTPS gets the same JSON error as over HTTP.
    const bad = await httpsCall(`https://127.0.0.1:${securePort}/predict`, ca, '{"instances": 3}');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text)).toHaveProperty('error');
    frontend.kill('SIGTERM');
    expect(await exitOf(frontend)).toBe(0);
  });

  it('a job whose http: section enables HTTPS answers /predict over HTTPS', async () => {
    const [httpPort, securePort] = [await freePort(), await freePort()];
    const model = await writeModel(join(cli.root, 'models'), 'mlp');
    const path = await cli.project(
      'secure',
      { jobName: 'secure', modelParallelism: 1, redisUrl: `localhost:${redis.port}` },
      model,
      [
        'http:',
        '  interface: 127.0.0.1',
        `  port: ${httpPort}`,
        '  httpsEnabled: true',
        `  securePort: ${securePort}`,
        // Relative to the config's folder.
        `  httpsCertPath: ../server.pem`,
        `  httpsKeyPath: ../server-key.pem`,
        '',
      ].join('\n'),
    );
    const started = await cli.run(['start', '-c', path, '--timeout', '120']);
    expect(started.code, started.stderr).toBe(0);
    const ca = await readFile(tls.ca);
    const predicted = await httpsCall(
      `https://127.0.0.1:${securePort}/predict`,
      ca,
      JSON.stringify({ instances: [{ input: [1, 2, 3, 4] }] }),
    );
    expect(predicted.status, predicted.text).toBe(200);
    expect(JSON.parse(predicted.text)).toHaveProperty('predictions');
    const pids = await cli.recordedPids();
    expect((await cli.run(['shutdown'])).code).toBe(0);
    await cli.assertNothingLeft(pids, [httpPort, securePort]);
  });

  it('refuses unusable PEM files and keystore options at start with a coded reason', async () => {
    const garbage = join(tls.dir, 'garbage.pem');
    await writeFile(garbage, 'not a certificate\n');
    const encrypted = join(tls.dir, 'encrypted-key.pem');
    openssl(['pkey', '-in', tls.key, '-aes256', '-passout', 'pass:secret', '-out', encrypted], tls.dir);
    const [httpPort, securePort] = [await freePort(), await freePort()];
    const cases: { args: string[]; code: number; error: string; says: RegExp }[] = [
      {
        args: ['--httpsEnabled', 'true', '--httpsCertPath', garbage, '--httpsKeyPath', tls.key],
        code: 2,
        error: 'CS_ERR_HTTPS_CERT_INVALID',
        says: /httpsCertPath: .*garbage\.pem is not a PEM file.*openssl pkcs12/,
      },
      {
        args: ['--httpsEnabled', 'true', '--httpsCertPath', tls.cert, '--httpsKeyPath', tls.otherKey],
        code: 2,
        error: 'CS_ERR_HTTPS_CERT_INVALID',
        says: /are not a usable PEM certificate and matching key/,
      },
      {
        args: ['--httpsEnabled', 'true', '--httpsCertPath', tls.key, '--httpsKeyPath', tls.cert],
        code: 2,
        error: 'CS_ERR_HTTPS_CERT_INVALID',
        says: /holds no "BEGIN CERTIFICATE" block/,
      },
      {
        args: ['--httpsEnabled', 'true', '--httpsCertPath', tls.cert, '--httpsKeyPath', encrypted],
        code: 2,
        error: 'CS_ERR_HTTPS_CERT_INVALID',
        says: /encrypted-key\.pem is encrypted.*openssl pkey -in key\.pem -out key-plain\.pem/,
      },
      {
        args: [
          '--httpsEnabled',
          'true',
          '--httpsCertPath',
          join(tls.dir, 'missing.pem'),
          '--httpsKeyPath',
          tls.key,
        ],
        code: 2,
        error: 'CS_ERR_CONFIG_INVALID',
        says: /httpsCertPath: expected a PEM certificate file.*no file at/,
      },
      {
        args: [
          '--httpsEnabled',
          'true',
          '--httpsKeyStorePath',
          'keystore.jks',
          '--httpsKeyStoreToken',
          'hunter2',
        ],
        code: 2,
        error: 'CS_ERR_CONFIG_INVALID',
        says: /httpsKeyStorePath: Java keystores are not read[\s\S]*keytool -importkeystore[\s\S]*openssl pkcs12 -in keystore\.p12 -nocerts -nodes -out key\.pem/,
      },
    ];
    for (const { args, code, error, says } of cases) {
      const result = await cli.run(frontendArgs(httpPort, securePort, args), { timeoutMs: 60_000 });
      expect(result.code, result.stderr).toBe(code);
      expect(result.stderr).toContain(error);
      expect(result.stderr).toMatch(says);
      expect(result.stderr).not.toContain('hunter2');
    }
  });
});
