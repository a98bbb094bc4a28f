import { describe, expect, it } from 'vitest';
import { decodeSlot, latencyBucket, SLOT_FIELDS, SLOT_MS } from '../../../src/redis/stats-schema.js';
import { figuresNow, jobSeries, lineChart, shortNumber } from '../../../src/supervisor/dashboard-charts.js';
import { renderJobPage } from '../../../src/supervisor/dashboard-job-page.js';
import { renderDashboardPage } from '../../../src/supervisor/dashboard-page.js';
import { readableLogLine, shownConfig } from '../../../src/supervisor/job-detail.js';
import type { ServingConfig } from '../../../src/config/types.js';
import { RUNNING_JOB } from '../../fixtures/listed-job.js';

/** A slot starting at `index * SLOT_MS` with `ok` answers of `ms` each. */
function slot(
  index: number,
  ok: number,
  ms: number,
  extra: Record<string, string> = {},
): ReturnType<typeof decodeSlot> {
  return decodeSlot(index * SLOT_MS, {
    [SLOT_FIELDS.workerOk]: String(ok),
    [SLOT_FIELDS.latency('w', latencyBucket(ms))]: String(ok),
    ...extra,
  });
}

describe('dashboard figures', () => {
  it('gives the rate over the last 10 seconds, latency over the last minute and errors over all slots', () => {
    const slots = [slot(0, 0, 1, { [SLOT_FIELDS.frontendErrors]: '2' }), slot(1, 100, 10), slot(2, 50, 10)];
    // 5 s into the last slot: its 50 plus half of the 100 before it, over 10 s.
    const now = 2 * SLOT_MS + 5000;
    const figures = figuresNow(slots, now);
    expect(figures.rate).toBeCloseTo(10, 5);
    expect(figures.p50).toBeGreaterThan(7);
    expect(figures.p50).toBeLessThanOrEqual(10);
    expect(figures.errors).toBe(2);
    const series = jobSeries(slots, now);
    expect(series.rate).toEqual([0, 10, 10]);
    expect(series.p50[0]).toBeNull();
    expect(series.queue).toEqual([null, null, null]);
  });

  it('draws lines between values, breaks at missing ones, and marks a lone value with a dot', () => {
    const svg = lineChart('queue depth', 'entries', [
      { values: [1, 2, null, 4, null], colour: '#000', label: 'q' },
    ]);
    expect(svg).toContain('<svg');
    expect(svg.match(/<path d="M[^"]*L[^"]*M[^"]*"/)).not.toBeNull();
    expect(svg.match(/<circle/g)).toHaveLength(1);
    expect(svg).toContain('max 4 entries');
    expect(shortNumber(12345)).toBe('12k');
    expect(shortNumber(0.456)).toBe('0.46');
  });
});

describe('overview', () => {
  it('shows a degraded job with buttons, and fields it does not know by name', () => {
    const job = {
      ...RUNNING_JOB,
      state: 'degraded',
      redisState: 'restarting',
      redisRestarts: 3,
      fromNewerSupervisor: 'x',
    } as unknown as typeof RUNNING_JOB;
    const page = renderDashboardPage([job], { home: '/h', now: new Date(0), token: 't', slots: new Map() });
    expect(page).toContain('>degraded<');
    expect(page).toContain('Redis restarting, 3 restarts');
    expect(page).toContain('fromNewerSupervisor: x');
    expect(page).toContain('data-action="stop"');
  });
});

describe('job page', () => {
  it('shows workers by host, errors, the config without passwords, and fields it does not know', () => {
    const config = shownConfig({
      jobName: 'j',
      redisUrl: 'redis://:secret@h:6379',
      redisSecureTrustStorePassword: 'trust-me',
      http: undefined,
    } as unknown as ServingConfig);
    const page = renderJobPage(
      {
        job: {
          ...RUNNING_JOB,
          state: 'degraded',
          redisState: 'restarting',
          fromNewerSupervisor: 'x',
          queuedRequests: 37,
        } as unknown as typeof RUNNING_JOB,
        config,
        workers: [
          { host: 'b-host', consumer: 'b-1', pid: 11, heartbeatAgeMs: 1500, restarts: null, state: 'ready' },
          { host: 'a-host', consumer: 'a-1', pid: null, heartbeatAgeMs: null, restarts: 2, state: 'backoff' },
        ],
        errors: ['worker 1: 12:00:00 ERROR <boom>'],
        logs: [{ name: 'worker 1 · j.worker-1.log', lines: ['12:00:00 INFO worker ready'] }],
        slots: undefined,
      },
      { home: '/h', now: new Date(0), token: 't' },
    );
    expect(page).not.toContain('secret');
    expect(page).not.toContain('trust-me');
    expect(page).toContain('b-host');
    expect(page).toContain('1.5 s ago');
    expect(page).toContain('backoff');
    expect(page).toContain('&#60;boom&#62;');
    expect(page).toContain('degraded');
    expect(page).toContain('<dt>Redis</dt><dd>restarting');
    expect(page).toContain('<dt>requests queued</dt><dd>37');
    expect(page).toContain('fromNewerSupervisor');
    expect(page).toContain('data-action="cancel"');
    expect(page).toContain('statistics unavailable');
  });

  it('reads pino lines as time, level and message', () => {
    const line = JSON.stringify({
      level: 50,
      time: Date.UTC(2026, 0, 1, 12, 0, 5),
      msg: 'failed',
      err: { message: 'why' },
    });
    expect(readableLogLine(line)).toEqual({ text: '12:00:05 ERROR failed: why', error: true });
    expect(readableLogLine('plain text')).toEqual({ text: 'plain text', error: false });
  });
});
