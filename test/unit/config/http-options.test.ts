import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../../src/config/defaults.js';
import { resolveHttpOptions } from '../../../src/config/http-options.js';
import { resolveConfig } from '../../../src/config/load.js';
import type { HttpOptions } from '../../../src/config/types.js';
import { CsError } from '../../../src/errors/registry.js';
import { TempDirs } from './temp-model.js';

const temp = new TempDirs();
afterAll(() => temp.cleanup());

function configMessage(raw: Record<string, unknown>): string {
  try {
    resolveConfig({ modelPath: temp.modelDir(), ...raw }, '/');
  } catch (error) {
    if (error instanceof CsError && error.code === 'CS_ERR_CONFIG_INVALID') return error.message;
    throw error;
  }
  throw new Error('the config was accepted');
}

function httpOf(raw: Record<string, unknown>): {
  http: HttpOptions | undefined;
  warnings: readonly string[];
} {
  const { config, warnings } = resolveConfig({ modelPath: temp.modelDir(), ...raw }, '/');
  return { http: config.http, warnings };
}

describe('resolveHttpOptions (cluster-serving http flags)', () => {
  it('gives DEFAULTS.http for no options and nothing inherited', () => {
    const { options, problems, warnings } = resolveHttpOptions({});
    expect(options).toEqual(DEFAULTS.http);
    expect(problems).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('reads every option from strings, as flags arrive', () => {
    const { options, problems } = resolveHttpOptions({
      interface: '127.0.0.1',
      port: '8080',
      redisHost: 'cache',
      redisPort: '6380',
      redisInputQueue: 'images',
      parallelism: '10',
      processes: '2',
      timeWindow: '5',
      countWindow: '8',
      tokenBucketEnabled: 'true',
      tokensPerSecond: '20',
      tokenAcquireTimeout: '0',
      requestTimeout: '1000',
      bodyLimit: '1mb',
    });
    expect(problems).toEqual([]);
    expect(options).toEqual({
      interface: '127.0.0.1',
      port: 8080,
      redisHost: 'cache',
      redisPort: 6380,
      redisUrl: undefined,
      redisInputQueue: 'images',
      redisOutputQueue: 'cluster-serving_images:',
      parallelism: 10,
      processes: 2,
      timeWindow: 5,
      countWindow: 8,
      tokenBucketEnabled: true,
      tokensPerSecond: 20,
      tokenAcquireTimeout: 0,
      requestTimeout: 1000,
      bodyLimit: 1024 * 1024,
      httpsEnabled: false,
      securePort: 10023,
      httpsCertPath: undefined,
      httpsKeyPath: undefined,
    });
  });

  it('matches option names case-insensitively', () => {
    const { options, problems } = resolveHttpOptions({ PORT: 9000, TokenBucketEnabled: true });
    expect(problems).toEqual([]);
    expect(options.port).toBe(9000);
    expect(options.tokenBucketEnabled).toBe(true);
  });

  it.each([
    ['interface', 'not an address', 'interface: expected a host name or IP address'],
    ['port', 70000, 'port: expected an integer from 0 to 65535, got 70000'],
    ['redisPort', 0, 'redisPort: expected an integer from 1 to 65535, got 0'],
    ['redisUrl', 'http://cache', 'redisUrl: expected host:port or redis://'],
    ['redisInputQueue', 'a:b', 'redisInputQueue: expected 1 to 64 characters'],
    ['redisOutputQueue', 'two words', 'redisOutputQueue: expected a key prefix without spaces'],
    ['parallelism', 0, 'parallelism: expected an integer from 1'],
    ['processes', 65, 'processes: expected an integer from 1 to 64, got 65'],
    ['timeWindow', -1, 'timeWindow: expected an integer from 0'],
    ['countWindow', 'many', 'countWindow: expected an integer from 1'],
    ['tokenBucketEnabled', 'sometimes', 'tokenBucketEnabled: expected true or false, got "sometimes"'],
    ['tokensPerSecond', 0.5, 'tokensPerSecond: expected an integer from 1'],
    ['tokenAcquireTimeout', -5, 'tokenAcquireTimeout: expected an integer from 0'],
    ['requestTimeout', 0, 'requestTimeout: expected an integer from 1'],
    ['bodyLimit', '2tb', 'bodyLimit: expected a size like 8g'],
  ])('reports an invalid %s', (key, value, expected) => {
    const { problems } = resolveHttpOptions({ [key]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(expected);
  });

  it('reports an unknown option with the closest known one', () => {
    expect(resolveHttpOptions({ prot: 1 }).problems).toEqual(['unknown key "prot" (did you mean "port"?)']);
    expect(resolveHttpOptions({ xyzzy: 1 }).problems).toEqual(['unknown key "xyzzy"']);
  });

  it('lets redisUrl win over redisHost/redisPort, with a warning, and describes the server it names', () => {
    const { options, warnings } = resolveHttpOptions({
      redisUrl: 'cache:7000',
      redisHost: 'other',
      redisPort: 1,
    });
    expect(options.redisUrl).toBe('redis://cache:7000');
    expect(options.redisHost).toBe('cache');
    expect(options.redisPort).toBe(7000);
    expect(warnings).toEqual(['redisHost and redisPort are ignored: redisUrl names the server']);
  });

  it('warns when the output queue is not where workers write', () => {
    const { options, warnings } = resolveHttpOptions({ redisOutputQueue: 'result:' });
    expect(options.redisOutputQueue).toBe('result:');
    expect(warnings.join('\n')).toContain('differs from "cluster-serving_serving_stream:"');
  });
});

describe('the http: section of config.yaml', () => {
  it('is absent unless the config has the key, and `false` means absent', () => {
    expect(httpOf({}).http).toBeUndefined();
    expect(httpOf({ http: false }).http).toBeUndefined();
  });

  it('runs a frontend with the defaults when present but empty (or true), inheriting redisUrl and jobName', () => {
    for (const value of [null, '', true, {}]) {
      const { http, warnings } = httpOf({ http: value, jobName: 'images', redisUrl: 'cache:7000' });
      expect(http).toEqual({
        ...DEFAULTS.http,
        redisUrl: 'redis://cache:7000',
        redisHost: 'cache',
        redisPort: 7000,
        redisInputQueue: 'images',
        redisOutputQueue: 'cluster-serving_images:',
      });
      expect(warnings).toEqual([]);
    }
  });

  it('inherits the default redisUrl too', () => {
    const { http } = httpOf({ http: null });
    expect(http?.redisUrl).toBe(DEFAULTS.redisUrl);
  });

  it("keeps the section's own redisUrl", () => {
    const { http } = httpOf({ redisUrl: 'cache:7000', http: { redisUrl: 'rediss://:pw@front-cache:6380' } });
    expect(http?.redisUrl).toBe('rediss://:pw@front-cache:6380');
    expect(http?.redisHost).toBe('front-cache');
    expect(http?.redisPort).toBe(6380);
  });

  it("uses the section's own redisHost/redisPort instead of the inherited URL", () => {
    const { http } = httpOf({ redisUrl: 'cache:7000', http: { redisHost: 'front-cache' } });
    expect(http?.redisUrl).toBeUndefined();
    expect(http?.redisHost).toBe('front-cache');
    expect(http?.redisPort).toBe(6379);
  });

  it('warns when the section feeds another stream than the job reads', () => {
    const { http, warnings } = httpOf({ jobName: 'images', http: { redisInputQueue: 'text' } });
    expect(http?.redisInputQueue).toBe('text');
    expect(http?.redisOutputQueue).toBe('cluster-serving_text:');
    expect(warnings).toEqual([
      'http.redisInputQueue "text" differs from jobName "images": the frontend feeds a stream this job\'s workers do not read',
    ]);
  });

  it('names keys with their section in problems, alongside top-level problems', () => {
    const message = configMessage({ maxBatchSize: 0, HTTP: { port: 'high', prot: 1 } });
    expect(message).toContain('has 3 problems');
    expect(message).toContain('  - maxBatchSize: expected an integer from 1 to 4096, got 0');
    expect(message).toContain('  - HTTP.port: expected an integer from 0 to 65535, got "high"');
    expect(message).toContain('  - unknown key "HTTP.prot" (did you mean "HTTP.port"?)');
  });

  it('refuses a section that is neither a mapping nor empty', () => {
    expect(configMessage({ http: 10020 })).toContain(
      'http: expected a mapping of frontend options (or nothing, for the defaults), got 10020',
    );
    expect(configMessage({ http: ['port'] })).toContain('got a list');
  });
});

describe('HTTPS options (BigDL: httpsEnabled, securePort)', () => {
  it('is off by default, securePort 10023', () => {
    expect(resolveHttpOptions({}).options).toMatchObject({
      httpsEnabled: false,
      securePort: 10023,
      httpsCertPath: undefined,
      httpsKeyPath: undefined,
    });
  });

  it('takes PEM paths relative to the config file, and needs both files when enabled', () => {
    const dir = temp.make({ 'tls/cert.pem': 'x', 'tls/key.pem': 'y' });
    const { config } = resolveConfig(
      {
        modelPath: temp.modelDir(),
        http: {
          httpsEnabled: true,
          securePort: 8443,
          httpsCertPath: 'tls/cert.pem',
          httpsKeyPath: 'tls/key.pem',
        },
      },
      dir,
    );
    expect(config.http).toMatchObject({
      httpsEnabled: true,
      securePort: 8443,
      port: 10020,
      httpsCertPath: `${dir}/tls/cert.pem`,
      httpsKeyPath: `${dir}/tls/key.pem`,
    });
    const message = configMessage({ http: { httpsEnabled: true, httpsCertPath: '/no/such/cert.pem' } });
    expect(message).toContain('http.httpsCertPath: expected a PEM certificate file');
    expect(message).toContain('no file at /no/such/cert.pem');
    expect(message).toContain(
      'http.httpsKeyPath: http.httpsEnabled is true: expected the path of a PEM private key file',
    );
  });

  it('refuses securePort equal to port, and warns about PEM paths while HTTPS is off', () => {
    const dir = temp.make({ 'cert.pem': 'x', 'key.pem': 'y' });
    const { problems } = resolveHttpOptions(
      {
        httpsEnabled: 'true',
        port: '9000',
        securePort: '9000',
        httpsCertPath: 'cert.pem',
        httpsKeyPath: 'key.pem',
      },
      { baseDir: dir },
    );
    expect(problems).toEqual([
      'securePort: expected a port other than port (9000), which keeps serving plain HTTP',
    ]);
    const off = resolveHttpOptions({ httpsCertPath: 'cert.pem', httpsKeyPath: 'key.pem' }, { baseDir: dir });
    expect(off.problems).toEqual([]);
    expect(off.warnings).toEqual(['httpsCertPath and httpsKeyPath are not used: httpsEnabled is false']);
  });

  it("refuses BigDL's keystore keys with the commands that convert a keystore to PEM, never echoing the token", () => {
    const message = configMessage({
      http: { httpsEnabled: true, httpsKeyStorePath: 'keystore.jks', HTTPSKeyStoreToken: 'hunter2' },
    });
    expect(message).toContain('http.httpsKeyStorePath: Java keystores are not read');
    expect(message).toContain('set http.httpsCertPath and http.httpsKeyPath');
    expect(message).toContain('keytool -importkeystore -srckeystore keystore.jks');
    expect(message).toContain('openssl pkcs12 -in keystore.p12 -nokeys -out cert.pem');
    expect(message).not.toContain('hunter2');
    expect(message).not.toContain('unknown');
  });
});
