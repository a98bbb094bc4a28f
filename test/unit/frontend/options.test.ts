import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { redisTarget } from '../../../src/config/redis-url.js';
import { CsError } from '../../../src/errors/registry.js';
import { parseFrontendArgv, resolveFrontendSettings } from '../../../src/frontend/options.js';

async function configFile(values: Record<string, unknown>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cs-frontend-options-'));
  // The loader checks the model file cheaply: an ONNX protobuf starts with field 1 (ir_version).
  await writeFile(join(dir, 'model.onnx'), Buffer.from([0x08, 0x07, 0x12, 0x00]));
  const path = join(dir, 'config.yaml');
  await writeFile(path, dump({ modelPath: './model.onnx', ...values }));
  return path;
}

describe('parseFrontendArgv', () => {
  it('reads --name value, --name=value, bare booleans, -c and --log-file', () => {
    expect(
      parseFrontendArgv([
        '--port',
        '8080',
        '--tokenBucketEnabled',
        '--redisHost=h',
        '-c',
        'cfg.yaml',
        '--log-file',
        '/tmp/f.log',
      ]),
    ).toEqual({
      flags: { port: '8080', tokenBucketEnabled: true, redisHost: 'h', config: 'cfg.yaml' },
      logFile: '/tmp/f.log',
    });
  });

  it('keeps values as typed (the frontend parses them) and reads --name=false', () => {
    expect(parseFrontendArgv(['--tokenBucketEnabled=false', '--interface', '127.0.0.1'])).toEqual({
      flags: { tokenBucketEnabled: 'false', interface: '127.0.0.1' },
    });
  });

  it('refuses a stray argument', () => {
    expect(() => parseFrontendArgv(['8080'])).toThrow(CsError);
    expect(() => parseFrontendArgv(['--'])).toThrow(/unexpected argument "--"/);
    expect(() => parseFrontendArgv(['--log-file'])).toThrow('--log-file needs a path');
  });
});

describe('resolveFrontendSettings', () => {
  it('builds the Redis url from redisHost/redisPort when no redisUrl is given', () => {
    const s = resolveFrontendSettings({
      flags: { redisHost: 'cache.local', redisPort: 6390, redisInputQueue: 'j' },
    });
    expect(s.redisUrl).toBe('redis://cache.local:6390');
    expect(s.http.redisInputQueue).toBe('j');
    expect(s.http.port).toBe(10020);
    expect(s.maxQueueLength).toBeUndefined();
    // An IPv6 address takes brackets in a URL, so the frontend can connect to it.
    const v6 = resolveFrontendSettings({ flags: { redisHost: '::1', redisPort: 6390 } });
    expect(v6.redisUrl).toBe('redis://[::1]:6390');
    expect(redisTarget(v6.redisUrl)).toMatchObject({ kind: 'server', host: '::1', port: 6390 });
  });

  it("takes BigDL's HTTPS flags as options, and refuses its keystore flags with the conversion commands", () => {
    const s = resolveFrontendSettings({
      flags: { httpsEnabled: false, securePort: 10443, redisInputQueue: 'j', servableManagerConfPath: 'x' },
    });
    expect(s.http).toMatchObject({ httpsEnabled: false, securePort: 10443 });
    expect(s.warnings.join('\n')).toContain('--servableManagerConfPath is a BigDL frontend option');
    expect(() =>
      resolveFrontendSettings({
        flags: { httpsEnabled: true, httpsKeyStorePath: 'k.jks', httpsKeyStoreToken: 's3cret' },
      }),
    ).toThrow(
      expect.objectContaining({
        code: 'CS_ERR_CONFIG_INVALID',
        message: expect.stringMatching(
          /httpsKeyStorePath: Java keystores are not read[\s\S]*keytool -importkeystore[\s\S]*openssl pkcs12/,
        ),
      }),
    );
    expect(() =>
      resolveFrontendSettings({ flags: { httpsEnabled: true, httpsKeyStoreToken: 's3cret' } }),
    ).toThrow(expect.objectContaining({ message: expect.not.stringContaining('s3cret') }));
  });

  it('lists every invalid or unknown option in one CS_ERR_CONFIG_INVALID', () => {
    let error: unknown;
    try {
      resolveFrontendSettings({ flags: { port: 'abc', parallelizm: 3 } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CsError);
    expect((error as CsError).code).toBe('CS_ERR_CONFIG_INVALID');
    expect((error as CsError).message).toContain('port');
    expect((error as CsError).message).toContain('parallelizm');
  });

  it("takes the config's http: section, inheriting jobName and redisUrl, with flags on top", async () => {
    const path = await configFile({
      jobName: 'cfg_job',
      redisUrl: 'redis://10.0.0.5:6400',
      maxQueueLength: 77,
      maxRecordBatch: 9,
      http: { port: 9000, parallelism: 5 },
    });
    const fromConfig = resolveFrontendSettings({ configPath: path });
    expect(fromConfig.http).toMatchObject({ port: 9000, parallelism: 5, redisInputQueue: 'cfg_job' });
    expect(fromConfig.redisUrl).toBe('redis://10.0.0.5:6400');
    expect(fromConfig.maxQueueLength).toBe(77);
    expect(fromConfig.maxRecordBatch).toBe(9);
    expect(fromConfig.maxRecordBytes).toBe(64 * 1024 * 1024);

    const overridden = resolveFrontendSettings({
      configPath: path,
      flags: { port: 9100, redis: 'redis://other:1' },
    });
    expect(overridden.http).toMatchObject({ port: 9100, parallelism: 5, redisInputQueue: 'cfg_job' });
    expect(overridden.redisUrl).toBe('redis://other:1');
  });

  it("lets --httpsEnabled use the section's PEM files, and checks securePort against the section's port", async () => {
    const path = await configFile({
      http: { port: 9000, httpsCertPath: 'cert.pem', httpsKeyPath: 'key.pem' },
    });
    const dir = path.slice(0, -'config.yaml'.length);
    await writeFile(join(dir, 'cert.pem'), 'x');
    await writeFile(join(dir, 'key.pem'), 'y');
    const s = resolveFrontendSettings({ configPath: path, flags: { httpsEnabled: true } });
    expect(s.http).toMatchObject({
      port: 9000,
      httpsEnabled: true,
      securePort: 10023,
      httpsCertPath: join(dir, 'cert.pem'),
      httpsKeyPath: join(dir, 'key.pem'),
    });
    expect(() =>
      resolveFrontendSettings({ configPath: path, flags: { httpsEnabled: true, securePort: 9000 } }),
    ).toThrow(/securePort: expected a port other than port \(9000\)/);
  });

  it('serves a job whose config has no http: section with the defaults', async () => {
    const path = await configFile({ jobName: 'plain_job' });
    const s = resolveFrontendSettings({ flags: { config: path } });
    expect(s.http).toMatchObject({ port: 10020, redisInputQueue: 'plain_job', parallelism: 1000 });
  });
});
