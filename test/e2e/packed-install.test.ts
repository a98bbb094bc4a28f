import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeModel } from '../fixtures/onnx-models.js';
import { freePort, startRedis, type TestRedis } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * The project as a user gets it: `npm pack`, then the tarball installed with npm into an
 * empty prefix, with no npm user config and without ONNXRUNTIME_NODE_INSTALL, and the
 * commands run from a directory that has nothing to do with the clone. Then the container
 * stand-in: the installed worker and frontend run as an unprivileged user.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NOBODY = { uid: 65534, gid: 65534 };

interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

// A user's shell: nothing npm set for this test run, no project npm settings, an empty user config.
function userEnv(root: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) || key === 'ONNXRUNTIME_NODE_INSTALL' || key === 'INIT_CWD') continue;
    env[key] = value;
  }
  return {
    ...env,
    NPM_CONFIG_USERCONFIG: join(root, 'empty-npmrc'),
    // The machine's own npm settings (its CA file), which a prefix of its own would not read.
    NPM_CONFIG_GLOBALCONFIG: globalNpmConfig(),
    ...extra,
  };
}

function globalNpmConfig(): string {
  const fromNpm = process.env['npm_config_globalconfig'];
  if (fromNpm !== undefined) return fromNpm;
  const asked = spawnSync('npm', ['config', 'get', 'globalconfig'], { encoding: 'utf8' });
  return asked.stdout.trim();
}

function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not finish; stderr: ${stderr}`));
    }, options.timeoutMs ?? 180_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The warnings the issue is about, and any other npm warning or error. */
function npmWarnings(output: string): string[] {
  return output
    .split('\n')
    .filter((line) => /^npm (warn|WARN|error|ERR)/.test(line) || /EBADENGINE/.test(line));
}

async function predict(port: number): Promise<{ status: number; body: { predictions?: string[] } }> {
  const response = await fetch(`http://127.0.0.1:${port}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ instances: [{ input: [1, 2, 3, 4] }, { input: [0.5, -1, 0, 2] }] }),
  });
  return { status: response.status, body: (await response.json()) as { predictions?: string[] } };
}

function processesNaming(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) pids.push(Number(entry));
    } catch {
      // ended meanwhile
    }
  }
  return pids;
}

describe('the packed project installed into an empty prefix', () => {
  let root: string;
  let prefix: string;
  let bin: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'cs-packed-'));
    writeFileSync(join(root, 'empty-npmrc'), '');
    prefix = join(root, 'prefix');
    bin = join(prefix, 'bin');
    // dist/ is built (npm test builds first); a fresh clone's `npm pack` builds it through `prepare`.
    const packed = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', root], {
      cwd: ROOT,
      env: userEnv(root),
    });
    expect(packed.code, packed.stderr).toBe(0);
    expect(npmWarnings(packed.stderr)).toEqual([]);
    const tarball = join(root, packed.stdout.trim().split('\n').at(-1) ?? '');
    expect(existsSync(tarball)).toBe(true);

    // As the README says; --prefer-offline takes what npm ci already cached.
    const installed = await run(
      'npm',
      ['install', '-g', '--prefix', prefix, '--omit=dev', '--ignore-scripts', '--prefer-offline', tarball],
      { cwd: root, env: userEnv(root), timeoutMs: 480_000 },
    );
    expect(installed.code, installed.stderr).toBe(0);
    expect(npmWarnings(installed.stderr)).toEqual([]);
  }, 600_000);

  afterAll(async () => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    const home = join(root, 'home');
    if (existsSync(join(bin, 'cluster-serving'))) {
      await run(join(bin, 'cluster-serving'), ['shutdown'], {
        cwd: root,
        env: userEnv(root, { CLUSTER_SERVING_HOME: home }),
        timeoutMs: 60_000,
      }).catch(() => undefined);
    }
    for (const pid of processesNaming(root)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // ended meanwhile
      }
    }
    await rm(root, { recursive: true, force: true });
  }, 120_000);

  it('installs nothing it does not need: no dev dependencies, no CUDA libraries, no build step', () => {
    const installedAt = join(prefix, 'lib', 'node_modules', 'cluster-serving');
    expect(existsSync(join(installedAt, 'dist', 'cli', 'main.js'))).toBe(true);
    expect(existsSync(join(installedAt, 'node_modules', 'vitest'))).toBe(false);
    const ortBinaries = join(
      installedAt,
      'node_modules',
      'onnxruntime-node',
      'bin',
      'napi-v6',
      'linux',
      'x64',
    );
    expect(readdirSync(ortBinaries).filter((name) => name.includes('cuda'))).toEqual([]);
    const cookie = JSON.parse(
      readFileSync(join(installedAt, 'node_modules', 'cookie', 'package.json'), 'utf8'),
    ) as { engines?: { node?: string } };
    expect(cookie.engines?.node ?? '').not.toMatch(/>=\s*2[1-9]/);
  });

  it('runs init, cluster-serving-start, list --json, a request and cluster-serving-shutdown from an unrelated directory, and the commands it prints as printed', async () => {
    const project = join(root, 'my-model');
    mkdirSync(project);
    await writeModel(join(project, 'model'), 'mlp');
    const redisPort = await freePort();
    const httpPort = await freePort();
    const env = userEnv(root, {
      PATH: `${bin}:${process.env['PATH'] ?? ''}`,
      CLUSTER_SERVING_HOME: join(root, 'home'),
      CLUSTER_SERVING_DASHBOARD: 'off',
    });
    const cli = (command: string, args: readonly string[]): Promise<Ran> =>
      run(command, args, { cwd: project, env });
    // Runs a command line the CLI printed, word for word.
    const printed = (line: string): Promise<Ran> => {
      const [command, ...args] = line.trim().split(/\s+/);
      return cli(command ?? '', args);
    };

    const init = await cli('cluster-serving-init', []);
    expect(init.code, init.stderr).toBe(0);
    const startLine = /run: (cluster-serving start -c \S+)/.exec(init.stderr)?.[1];
    expect(startLine, init.stderr).toBeDefined();
    const configPath = join(project, 'config.yaml');
    const template = readFileSync(configPath, 'utf8');
    writeFileSync(
      configPath,
      `${template
        .replace(/^jobName: .*$/m, 'jobName: packed_install')
        .replace(/^redisUrl: .*$/m, `redisUrl: localhost:${redisPort}`)
        .replace(
          /^modelParallelism:.*$/m,
          'modelParallelism: 1',
        )}\nhttp:\n  interface: 127.0.0.1\n  port: ${httpPort}\n`,
    );

    const started = await cli('cluster-serving-start', ['-c', 'config.yaml']);
    expect(started.code, started.stderr).toBe(0);
    const listed = await cli('cluster-serving', ['list', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain('packed_install');
    const answer = await predict(httpPort);
    expect(answer.status).toBe(200);
    expect(answer.body.predictions).toHaveLength(2);

    const seeLine = /see it:\s+(cluster-serving list)$/m.exec(started.stdout)?.[1];
    const stopLine = /stop it:\s+(cluster-serving stop \S+)/.exec(started.stdout)?.[1];
    expect([seeLine, stopLine], started.stdout).toEqual([
      'cluster-serving list',
      'cluster-serving stop packed_install',
    ]);
    const seen = await printed(seeLine ?? '');
    expect(seen.code, seen.stderr).toBe(0);
    expect(seen.stdout).toContain('packed_install');
    const stopped = await printed(stopLine ?? '');
    expect(stopped.code, stopped.stderr).toBe(0);
    const restarted = await printed(startLine ?? '');
    expect(restarted.code, restarted.stderr).toBe(0);
    expect((await predict(httpPort)).status).toBe(200);

    const shutdown = await cli('cluster-serving-shutdown', []);
    expect(shutdown.code, shutdown.stderr).toBe(0);
    await waitFor(() => processesNaming(join(root, 'home')).length === 0, {
      what: 'no process of the home left after cluster-serving-shutdown',
    });
  }, 300_000);

  it('runs the installed worker and frontend as an unprivileged user (the container image stand-in)', async () => {
    const redis: TestRedis = await startRedis();
    try {
      // The prefix and the job's files must be readable by that user, as in the image.
      for (let dir = prefix; dir !== tmpdir(); dir = join(dir, '..')) chmodSync(dir, 0o755);
      const job = join(root, 'container');
      mkdirSync(job, { mode: 0o755 });
      const model = await writeModel(join(job, 'models'), 'mlp');
      chmodSync(join(job, 'models'), 0o755);
      chmodSync(model, 0o644);
      // As in the pods (read-only root filesystem): HOME cannot be written, only the
      // CLUSTER_SERVING_HOME the image points at a writable volume.
      const home = join(root, 'container-home');
      mkdirSync(home, { mode: 0o755 });
      const writable = join(root, 'container-tmp');
      mkdirSync(writable);
      chownSync(writable, NOBODY.uid, NOBODY.gid);
      const httpPort = await freePort();
      const healthPort = await freePort();
      const config = join(job, 'config.yaml');
      writeFileSync(
        config,
        `modelPath: ${model}\njobName: container\nredisUrl: ${redis.url}\nmodelParallelism: 1\ncpuAffinity: off\nhttp:\n  interface: 127.0.0.1\n  port: ${httpPort}\n`,
        { mode: 0o644 },
      );
      const env = userEnv(root, {
        HOME: home,
        TMPDIR: writable,
        CLUSTER_SERVING_HOME: join(writable, 'cluster-serving'),
      });
      const asNobody = (args: readonly string[]): ChildProcess => {
        const child = spawn(
          'setpriv',
          [
            `--reuid=${NOBODY.uid}`,
            `--regid=${NOBODY.gid}`,
            '--clear-groups',
            join(bin, 'cluster-serving'),
            ...args,
          ],
          { cwd: home, env, stdio: ['ignore', 'ignore', 'pipe'] },
        );
        children.push(child);
        return child;
      };
      const worker = asNobody([
        'worker',
        '-c',
        config,
        '--health-port',
        String(healthPort),
        '--health-host',
        '127.0.0.1',
      ]);
      const frontend = asNobody(['http', '-c', config]);
      let stderr = '';
      for (const child of [worker, frontend])
        child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr += c));

      await waitFor(
        async () => {
          if (worker.exitCode !== null || frontend.exitCode !== null) throw new Error(`exited: ${stderr}`);
          return (await fetch(`http://127.0.0.1:${healthPort}/readyz`)).status === 200;
        },
        { timeoutMs: 60_000, what: 'the worker ready on /readyz' },
      );
      const answer = await waitFor(
        async () => {
          const result = await predict(httpPort);
          return result.status === 200 && result;
        },
        { timeoutMs: 30_000, what: 'the frontend answering /predict' },
      );
      expect(answer.body.predictions).toHaveLength(2);
      for (const child of [worker, frontend]) {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        expect(/^Uid:\s+(\d+)/m.exec(status)?.[1]).toBe(String(NOBODY.uid));
      }

      const exits = [worker, frontend].map(
        (child) => new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code))),
      );
      worker.kill('SIGTERM');
      frontend.kill('SIGTERM');
      expect(await Promise.all(exits)).toEqual([0, 0]);
    } finally {
      await redis.stop();
    }
  }, 180_000);
});
