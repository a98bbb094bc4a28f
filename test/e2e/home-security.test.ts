import { readdirSync, readFileSync, statSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputQueue } from '../../src/client/input-queue.js';
import { probeAddress } from '../../src/redis/server.js';
import { writeModel } from '../fixtures/onnx-models.js';
import { CliHarness } from '../helpers/cli.js';
import { freePort } from '../helpers/redis-server.js';
import { expectMlpAnswer } from './e2e-support.js';

let cli: CliHarness;
let port: number;

beforeEach(async () => {
  cli = await CliHarness.create();
  port = await freePort();
});

afterEach(async () => {
  await cli.cleanup();
});

/**
 * A redis-server on PATH ahead of the real one that records its arguments, then becomes the
 * real server. The real one overwrites its own /proc cmdline with a title once it runs, so
 * only the arguments as given show what `ps` showed while it started.
 */
async function recordingRedisServer(dir: string): Promise<{ path: string; argsFile: string }> {
  const real = (process.env['PATH'] ?? '')
    .split(':')
    .map((entry) => join(entry, 'redis-server'))
    .find((candidate) => {
      try {
        return statSync(candidate).isFile();
      } catch {
        return false;
      }
    });
  if (real === undefined) throw new Error('redis-server is not on PATH');
  await mkdir(dir, { recursive: true });
  const argsFile = join(dir, 'args.txt');
  const script = join(dir, 'redis-server');
  await writeFile(script, `#!/bin/sh\nprintf '%s\\n' "$@" >> '${argsFile}'\nexec '${real}' "$@"\n`);
  await chmod(script, 0o755);
  return { path: `${dir}:${process.env['PATH'] ?? ''}`, argsFile };
}

function modeOf(path: string): string {
  return (statSync(path).mode & 0o777).toString(8);
}

describe('what other local users can see', { timeout: 180_000 }, () => {
  it('the Redis password is not on any command line, and the home is readable by its user only', async () => {
    // Characters a config file would need quoted: a quote, a backslash, a space.
    const password = 'not-in-ps "q\\ w';
    const url = `redis://:${encodeURIComponent(password)}@localhost:${port}`;
    const model = await writeModel(join(cli.root, 'models'), 'mlp');
    const path = await cli.project('p', { jobName: 'secret', modelParallelism: 1, redisUrl: url }, model);
    const shim = await recordingRedisServer(join(cli.root, 'shim'));
    const started = await cli.run(['start', '-c', path, '--timeout', '120'], { env: { PATH: shim.path } });
    expect(started.code, started.stderr).toBe(0);

    const state = JSON.parse(await readFile(join(cli.home, 'state.json'), 'utf8')) as {
      redis: { pid: number | null }[];
    };
    const redisPid = state.redis[0]?.pid;
    expect(redisPid).toBeTypeOf('number');
    const given = await readFile(shim.argsFile, 'utf8');
    expect(given).toContain(`${port}`);
    expect(given).not.toContain('not-in-ps');
    // Every process of the home (redis-server, supervisor, worker): none shows the password.
    for (const pid of [Number(redisPid), ...cli.processesOfHome()]) {
      const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      expect(commandLine).not.toContain('not-in-ps');
    }
    // The password is in force (and read back exactly): refused without it, served with it.
    expect(await probeAddress('127.0.0.1', port, 2000)).toEqual({ kind: 'redis', needsAuth: true });
    const queue = new InputQueue({ redisUrl: url.replace('localhost', '127.0.0.1'), name: 'secret' });
    try {
      await expectMlpAnswer(queue, 3);
    } finally {
      await queue.close();
    }

    expect(modeOf(cli.home)).toBe('700');
    expect(modeOf(join(cli.home, 'logs'))).toBe('700');
    expect(modeOf(join(cli.home, 'state.json'))).toBe('600');
    const secretFiles = readdirSync(cli.home).filter((name) => name.endsWith('.conf'));
    expect(secretFiles).toEqual([`redis-${port}.conf`]);
    expect(modeOf(join(cli.home, `redis-${port}.conf`))).toBe('600');
    const logs = readdirSync(join(cli.home, 'logs'));
    expect(logs.length).toBeGreaterThanOrEqual(3);
    for (const name of logs) expect(`${name} ${modeOf(join(cli.home, 'logs', name))}`).toBe(`${name} 600`);

    expect((await cli.run(['shutdown'])).code).toBe(0);
    // The file holding the password does not outlive the server.
    expect(readdirSync(cli.home).filter((name) => name.endsWith('.conf'))).toEqual([]);
  });
});
