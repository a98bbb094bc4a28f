import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CliHarness, exitOf, portAnswers } from '../helpers/cli.js';
import { freePort } from '../helpers/redis-server.js';

const ROOT = join(import.meta.dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const SAMPLES = ['address', 'invoice', 'notice', 'short', 'total'];

let cli: CliHarness;

beforeEach(async () => {
  cli = await CliHarness.create();
});

afterEach(async () => {
  await cli.cleanup();
});

describe('npm run demo', () => {
  it('serves the PaddleOCR classifier through the real CLI and classifies upright and rotated text right', async () => {
    const redisPort = await freePort();
    const httpPort = await freePort();
    const dashboardPort = await freePort();
    const demo = spawn(
      TSX,
      ['scripts/demo.ts', '--redis-port', String(redisPort), '--http-port', String(httpPort)],
      {
        cwd: ROOT,
        env: cli.env({ CLUSTER_SERVING_DASHBOARD: `127.0.0.1:${dashboardPort}` }),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    demo.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    demo.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await exitOf(demo);
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

    // The stop command it prints leaves nothing behind.
    const pids = await cli.recordedPids();
    expect(pids.length).toBeGreaterThan(0);
    const shutdown = await cli.run(['shutdown']);
    expect(shutdown.code).toBe(0);
    await cli.assertNothingLeft(pids, [redisPort, httpPort]);
    expect(await portAnswers(httpPort)).toBe(false);
  });
});
