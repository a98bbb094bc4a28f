import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterEach, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import type { InputQueue } from '../../src/client/input-queue.js';
import { writeModel } from '../fixtures/onnx-models.js';
import { CliHarness } from '../helpers/cli.js';
import { freePort } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait-for.js';
import { queueFor, sample } from './e2e-support.js';

/** Debian's chromium package (.ci/run installs it); playwright-core never downloads a browser. */
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
/** Long enough to be cut in its cell, within the 64 characters a jobName may have. */
const JOB = 'watched_in_a_browser_with_a_name_long_enough_to_be_cut';

let cli: CliHarness;
let shots: string;
let profile: string;
let context: BrowserContext | undefined;

/** Pids of processes whose command line holds `text` (our own unique temp path). */
function pidsWith(text: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        return readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text);
      } catch {
        return false;
      }
    })
    .map(Number);
}

beforeEach(async () => {
  cli = await CliHarness.create();
  shots = await mkdtemp(join(tmpdir(), 'cs-dashboard-shots-'));
  profile = await mkdtemp(join(tmpdir(), 'cs-chromium-profile-'));
  onTestFailed(() => {
    process.stderr.write(`dashboard browser test failed; screenshots in ${shots}\n`);
  });
});

afterEach(async (test) => {
  await Promise.race([context?.close(), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
  context = undefined;
  // A browser that did not close in time goes with its profile directory.
  for (const pid of pidsWith(profile)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await rm(profile, { recursive: true, force: true });
  await cli.cleanup();
  if (test.task.result?.state === 'pass' && process.env['CS_KEEP_SCREENSHOTS'] !== '1') {
    await rm(shots, { recursive: true, force: true });
  }
});

async function openBrowser(): Promise<Page> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1200, height: 900 },
  });
  return context.pages()[0] ?? (await context.newPage());
}

/** Keeps `lanes` predictions in flight until `stop` is set. */
function sendLoad(
  queue: InputQueue,
  lanes: number,
  state: { stop: boolean; answered: number },
): Promise<void> {
  const lane = async (seed: number): Promise<void> => {
    for (let i = 0; !state.stop; i++) {
      const result = await queue.predict(
        { input: { data: sample(seed + i), shape: [1, 4] } },
        { timeoutMs: 30_000 },
      );
      if (result.kind === 'tensors') state.answered++;
    }
  };
  return Promise.all(Array.from({ length: lanes }, (_, k) => lane(k * 1000))).then(() => undefined);
}

/** A raw request, so that Host and Origin are exactly what a test says. */
function rawRequest(
  port: number,
  options: { method: string; path: string; headers: Record<string, string>; body?: string },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method: options.method, path: options.path, headers: options.headers },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

interface Listed {
  jobs: { id: string; name: string; state: string }[];
}

describe('the dashboard in a real browser', { timeout: 180_000 }, () => {
  it('shows the rate rise under load, cancels the job from its page, and `list` agrees', async () => {
    const redisPort = await freePort();
    const dashboardPort = await freePort();
    const url = `http://127.0.0.1:${dashboardPort}`;
    const env = { CLUSTER_SERVING_DASHBOARD: `127.0.0.1:${dashboardPort}` };
    const model = await writeModel(join(cli.root, 'models'), 'mlp');
    const config = await cli.project(
      'p',
      { jobName: JOB, modelParallelism: 1, redisUrl: `localhost:${redisPort}`, redisMaxmemory: '64mb' },
      model,
    );
    const started = await cli.run(['start', '-c', config, '--timeout', '120'], { env });
    expect(started.code, started.stderr).toBe(0);
    const { jobs } = JSON.parse((await cli.run(['list', '--json'])).stdout) as Listed;
    const id = jobs.find((job) => job.name === JOB)?.id ?? '';

    const page = await openBrowser();
    await page.goto(url);
    await page.screenshot({ path: join(shots, 'idle-1200.png'), fullPage: true });
    const rate = async (): Promise<number> =>
      Number(await page.locator('[data-figure="rate"]').first().textContent());
    expect(await rate()).toBe(0);

    const queue = queueFor(redisPort, JOB);
    const load = { stop: false, answered: 0 };
    const sending = sendLoad(queue, 4, load);
    try {
      // The page's own script brings in new figures: no reload here.
      await waitFor(async () => (await rate()) > 0, {
        timeoutMs: 30_000,
        what: 'the rate on the page to rise',
      });
      await waitFor(
        async () => (await page.locator('[data-figure="p50"]').first().textContent())?.endsWith(' ms'),
        {
          timeoutMs: 30_000,
          what: 'a p50 latency on the page',
        },
      );
      await page.screenshot({ path: join(shots, 'running-1200.png'), fullPage: true });

      // A long name is cut in its cell and whole on hover.
      const name = page.locator('table a.cut').first();
      expect(await name.getAttribute('title')).toBe(JOB);
      expect(await name.evaluate((el) => el.scrollWidth > el.clientWidth)).toBe(true);

      // Phone-sized: nothing wider than the window except inside the table's own scroller.
      await page.setViewportSize({ width: 390, height: 844 });
      expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
      await page.screenshot({ path: join(shots, 'running-phone.png'), fullPage: true });
      await page.setViewportSize({ width: 1200, height: 900 });

      // Another site cannot act: a foreign Origin, or no token, is refused and nothing changes.
      const foreign = await rawRequest(dashboardPort, {
        method: 'POST',
        path: `/jobs/${id}/cancel`,
        headers: {
          host: `127.0.0.1:${dashboardPort}`,
          origin: 'http://evil.example',
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'token=guess',
      });
      expect(foreign.status).toBe(403);
      const rebound = await rawRequest(dashboardPort, {
        method: 'GET',
        path: '/',
        headers: { host: `evil.example:${dashboardPort}` },
      });
      expect(rebound.status).toBe(403);
      expect(rebound.body).toContain('CS_ERR_DASHBOARD_HOST');

      // The job's page: workers by host with their heartbeat, config as loaded, logs.
      await page.locator(`a[href="/jobs/${id}"]`).first().click();
      await page.waitForURL(`${url}/jobs/${id}`);
      const text = (await page.textContent('body')) ?? '';
      expect(text).toContain('workers by host');
      expect(text).toMatch(/s ago/);
      expect(text).toContain('"maxBatchSize"');
      await page.screenshot({ path: join(shots, 'job-1200.png'), fullPage: true });
      expect(JSON.parse((await cli.run(['list', '--json'])).stdout)).toMatchObject({
        jobs: [{ id, state: 'running' }],
      });

      await page.locator('button[data-action="cancel"]').click();
      await page.waitForURL(`${url}/jobs/${id}`);
      await waitFor(async () => (await page.locator('h1 .state').textContent()) === 'cancelled', {
        timeoutMs: 30_000,
        what: 'the job page to show the job cancelled',
      });
      await page.screenshot({ path: join(shots, 'cancelled-1200.png'), fullPage: true });
    } finally {
      load.stop = true;
      await sending.catch(() => undefined);
      await queue.close();
    }
    expect(load.answered).toBeGreaterThan(0);
    const listed = JSON.parse((await cli.run(['list', '--all', '--json'])).stdout) as Listed;
    expect(listed.jobs.find((job) => job.id === id)?.state).toBe('cancelled');
  });
});
