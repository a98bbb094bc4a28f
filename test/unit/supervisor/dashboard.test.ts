import { describe, expect, it } from 'vitest';
import { dashboardAddress } from '../../../src/supervisor/dashboard-address.js';
import { escapeHtml, renderDashboardPage } from '../../../src/supervisor/dashboard-page.js';
import { buildDashboard } from '../../../src/supervisor/dashboard.js';
import type { ListedJob } from '../../../src/supervisor/job-record.js';
import { RUNNING_JOB } from '../../fixtures/listed-job.js';

const running: ListedJob = {
  ...RUNNING_JOB,
  model: '/models/resnet.onnx',
  processed: 4200,
  queued: 7,
  inFlight: 2,
};

const failed: ListedJob = {
  ...running,
  id: 'ff00ff00',
  name: 'broken<job>',
  state: 'failed',
  workers: { ready: 0, total: 0, localReady: 0, localTotal: 0, remote: 0, hosts: [] },
  http: null,
  processed: null,
  queued: null,
  inFlight: null,
  uptimeSeconds: null,
  lastError: 'worker 1/1 exited: <script>alert("x")</script>',
};

const context = { home: '/home/me/.cluster-serving', now: new Date('2026-11-28T12:00:00Z') };

describe('dashboard address (CLUSTER_SERVING_DASHBOARD)', () => {
  it('defaults to 127.0.0.1:8081 and reads off, a port, host:port and [IPv6]:port', () => {
    expect(dashboardAddress({})).toEqual({ host: '127.0.0.1', port: 8081 });
    expect(dashboardAddress({ CLUSTER_SERVING_DASHBOARD: ' ' })).toEqual({ host: '127.0.0.1', port: 8081 });
    expect(dashboardAddress({ CLUSTER_SERVING_DASHBOARD: 'OFF' })).toBeUndefined();
    expect(dashboardAddress({ CLUSTER_SERVING_DASHBOARD: '9090' })).toEqual({
      host: '127.0.0.1',
      port: 9090,
    });
    expect(dashboardAddress({ CLUSTER_SERVING_DASHBOARD: '0.0.0.0:80' })).toEqual({
      host: '0.0.0.0',
      port: 80,
    });
    expect(dashboardAddress({ CLUSTER_SERVING_DASHBOARD: '[::1]:8081' })).toEqual({
      host: '::1',
      port: 8081,
    });
  });

  it('refuses anything else with a usage error that says what to write', () => {
    for (const value of ['yes', 'host:', ':80', '70000', 'a b:1', 'http://x:1']) {
      expect(() => dashboardAddress({ CLUSTER_SERVING_DASHBOARD: value }), value).toThrow(
        expect.objectContaining({ code: 'CS_ERR_CLI_USAGE', message: expect.stringContaining('host:port') }),
      );
    }
  });
});

describe('dashboard page', () => {
  it('shows each job with the figures `list` shows, and the last error of a failed one', () => {
    const page = renderDashboardPage([running, failed], context);
    expect(page).toContain('<meta http-equiv="refresh"');
    expect(page).toContain('<b>serving_stream</b>');
    expect(page).toMatch(
      /<td>3\/3 \(1 remote\)<\/td><td>1<\/td><td>4200<\/td><td>7<\/td><td>2<\/td><td>1h02m<\/td>/,
    );
    expect(page).toContain('resnet.onnx');
    expect(page).toContain('href="http://127.0.0.1:10020/metrics"');
    expect(page).toContain('/home/me/.cluster-serving');
    // Figures Redis could not give read "-", as in `list`.
    expect(page).toMatch(/<td>0\/0<\/td><td>1<\/td><td>-<\/td><td>-<\/td><td>-<\/td><td>-<\/td>/);
  });

  it('escapes every text that comes from a config or an error', () => {
    const page = renderDashboardPage([failed], context);
    expect(page).not.toContain('<script>');
    expect(page).not.toContain('broken<job>');
    expect(page).toContain('broken&#60;job&#62;');
    expect(page).toContain(
      'last error: worker 1/1 exited: &#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;',
    );
    expect(escapeHtml(`a&b'"`)).toBe('a&#38;b&#39;&#34;');
  });

  it('says how to start a job when none has run', () => {
    expect(renderDashboardPage([], context)).toContain('No job has run in this home yet');
  });
});

describe('dashboard server', () => {
  it('serves the page and the jobs as JSON, fresh on every request', async () => {
    let jobs: ListedJob[] = [running];
    const app = buildDashboard({ home: context.home, jobs: () => Promise.resolve(jobs) });
    try {
      const page = await app.inject({ method: 'GET', url: '/' });
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.headers['cache-control']).toBe('no-store');
      expect(page.body).toContain('serving_stream');
      jobs = [running, failed];
      const api = await app.inject({ method: 'GET', url: '/api/jobs' });
      expect(api.statusCode).toBe(200);
      expect(api.json()).toEqual({ jobs: [running, failed] });
      expect((await app.inject({ method: 'GET', url: '/nothing' })).statusCode).toBe(404);
    } finally {
      await app.close();
    }
  });
});
