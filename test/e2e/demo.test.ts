import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CliHarness, portAnswers } from '../helpers/cli.js';
import { freePort } from '../helpers/redis-server.js';

const ROOT = join(import.meta.dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const SAMPLES = ['address', 'invoice', 'notice', 'short', 'total'];

let cli: CliHarness;

interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command from the project root (where `npm run demo` runs) to its end. */
async function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Ran> {
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  // 'close', not 'exit': every byte of its output has been read then.
  const code = await new Promise<number>((resolve) =>
    child.once('close', (exitCode, signal) => resolve(exitCode ?? (signal === null ? -1 : 128))),
  );
  return { code, stdout, stderr };
}

beforeEach(async () => {
  cli = await CliHarness.create();
});

afterEach(async () => {
  await cli.cleanup();
});

describe('npm run demo', { timeout: 240_000 }, () => {
  it('serves the PaddleOCR classifier through the real CLI and classifies upright and rotated text right', async () => {
    const redisPort = await freePort();
    const httpPort = await freePort();
    const dashboardPort = await freePort();
    const env = cli.env({ CLUSTER_SERVING_DASHBOARD: `127.0.0.1:${dashboardPort}` });
    const runDemo = () =>
      run(TSX, ['scripts/demo.ts', '--redis-port', String(redisPort), '--http-port', String(httpPort)], env);
    const { code, stdout, stderr } = await runDemo();
    expect(code, `${stdout}\n${stderr}`).toBe(0);

    // Every sample, upright and upside down, on a line with its expected and predicted orientation.
    for (const name of SAMPLES) {
      expect(stdout).toMatch(new RegExp(`${name}-0\\.jpg\\s+0°\\s+0° \\(p=[01]\\.\\d{4}\\)\\s+0° .*ok`));
      expect(stdout).toMatch(
        new RegExp(`${name}-180\\.jpg\\s+180°\\s+180° \\(p=[01]\\.\\d{4}\\)\\s+180° .*ok`),
      );
    }
    expect(stdout).not.toContain('WRONG');
    expect(stdout).toContain('All 10 images classified right');
    expect(stdout).toContain(`curl -s http://127.0.0.1:${httpPort}/predict`);
    expect(stdout).toContain(`CLUSTER_SERVING_HOME=${cli.home} npx cluster-serving shutdown`);
    expect(stdout).toContain(`  http://127.0.0.1:${dashboardPort}   (the dashboard, in a browser)`);

    // The service is left running: an upside-down line sent now is still classified 180°.
    const image = (await readFile(join(ROOT, 'demo', 'images', 'total-180.jpg'))).toString('base64');
    const response = await fetch(`http://127.0.0.1:${httpPort}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances: [{ x: image }] }),
    });
    expect(response.status).toBe(200);
    const [element] = ((await response.json()) as { predictions: string[] }).predictions;
    const { data } = JSON.parse((JSON.parse(element ?? '{}') as { value: string }).value) as {
      data: number[];
    };
    expect(data[1]).toBeGreaterThan(0.9);

    // Run again while it runs: it uses the running job, with no error line and the dashboard line kept.
    const again = await runDemo();
    expect(again.code, `${again.stdout}\n${again.stderr}`).toBe(0);
    expect(again.stdout).toContain('Job text_orientation is already running from an earlier demo; using it.');
    expect(again.stderr).not.toMatch(/CS_ERR|error/i);
    expect(again.stdout).toContain('All 10 images classified right');
    expect(again.stdout).toContain(`  http://127.0.0.1:${dashboardPort}   (the dashboard, in a browser)`);

    // The commands it prints run as printed (through a shell, from where `npm run demo` runs).
    const tryIt = /Try it:\n([\s\S]*?)\nSee it:\n(.*)\n/.exec(again.stdout);
    const curl = await run('sh', ['-c', tryIt?.[1] ?? 'false'], env);
    expect(curl.code, curl.stderr).toBe(0);
    expect(JSON.parse(curl.stdout)).toHaveProperty('predictions');
    const seen = await run('sh', ['-c', tryIt?.[2] ?? 'false'], env);
    expect(seen.code, seen.stderr).toBe(0);
    expect(seen.stdout).toMatch(/text_orientation\s+running/);

    // The stop command it prints leaves nothing behind.
    const pids = await cli.recordedPids();
    expect(pids.length).toBeGreaterThan(0);
    const stopLine = /Stop everything it started:\n(.*)\n/.exec(again.stdout)?.[1];
    const shutdown = await run('sh', ['-c', stopLine ?? 'false'], env);
    expect(shutdown.code, shutdown.stderr).toBe(0);
    await cli.assertNothingLeft(pids, [redisPort, httpPort]);
    expect(await portAnswers(httpPort)).toBe(false);
  });
});
