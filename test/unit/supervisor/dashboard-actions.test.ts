import { describe, expect, it } from 'vitest';
import { DashboardGuard, dashboardHosts, hostName } from '../../../src/supervisor/dashboard-guard.js';
import { buildDashboard, type DashboardSource } from '../../../src/supervisor/dashboard.js';
import type { JobDetail } from '../../../src/supervisor/job-detail.js';
import type { ListedJob } from '../../../src/supervisor/job-record.js';
import { RUNNING_JOB } from '../../fixtures/listed-job.js';

const TOKEN = 'test-token-0123456789';
const HOST = '127.0.0.1:8081';
const ORIGIN = `http://${HOST}`;

/** A source that records the actions asked of it. */
function source(): DashboardSource & { actions: string[] } {
  const actions: string[] = [];
  let job: ListedJob = { ...RUNNING_JOB };
  const detail = (): JobDetail => ({
    job,
    config: { jobName: job.name, redisUrl: 'redis://***@localhost:6379' },
    workers: [],
    errors: [],
    logs: [],
    slots: undefined,
  });
  return {
    actions,
    home: '/home/me/.cluster-serving',
    jobs: () => Promise.resolve([job]),
    detail: (id) => Promise.resolve(id === job.id ? detail() : undefined),
    stop: (id) => {
      actions.push(`stop ${id}`);
      job = { ...job, state: 'stopped' };
      return Promise.resolve(job);
    },
    cancel: (id) => {
      actions.push(`cancel ${id}`);
      job = { ...job, state: 'cancelled' };
      return Promise.resolve(job);
    },
  };
}

function dashboard(src = source(), extraHosts: string[] = []): ReturnType<typeof buildDashboard> {
  return buildDashboard(src, { guard: new DashboardGuard('127.0.0.1', extraHosts, TOKEN) });
}

const form = (token: string): string => new URLSearchParams({ token }).toString();
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('dashboard actions', () => {
  it('cancel and stop run with the page token from the page origin, then show the job page', async () => {
    const src = source();
    const app = dashboard(src);
    const page = await app.inject({ method: 'GET', url: '/', headers: { host: HOST } });
    expect(page.body).toContain(`name="token" value="${TOKEN}"`);
    expect(page.body).toContain(`action="/jobs/${RUNNING_JOB.id}/cancel"`);
    const answer = await app.inject({
      method: 'POST',
      url: `/jobs/${RUNNING_JOB.id}/cancel`,
      headers: { host: HOST, origin: ORIGIN, ...FORM },
      payload: form(TOKEN),
    });
    expect(answer.statusCode).toBe(303);
    expect(answer.headers['location']).toBe(`/jobs/${RUNNING_JOB.id}`);
    expect(src.actions).toEqual([`cancel ${RUNNING_JOB.id}`]);
    // Ended: no buttons, and a second action is refused as for the CLI.
    const after = await app.inject({
      method: 'GET',
      url: `/jobs/${RUNNING_JOB.id}`,
      headers: { host: HOST },
    });
    expect(after.body).toContain('cancelled');
    expect(after.body).not.toContain('data-action="stop"');
    const again = await app.inject({
      method: 'POST',
      url: `/jobs/${RUNNING_JOB.id}/stop`,
      headers: { host: HOST, origin: ORIGIN, ...FORM },
      payload: form(TOKEN),
    });
    expect(again.statusCode).toBe(404);
    expect(again.json()).toMatchObject({ code: 'CS_ERR_JOB_NOT_FOUND' });
    expect(src.actions).toHaveLength(1);
    await app.close();
  });

  it('refuses (403) an action without the token, with a wrong one, from another origin or without one', async () => {
    const src = source();
    const app = dashboard(src);
    const url = `/jobs/${RUNNING_JOB.id}/cancel`;
    const attempts = [
      { headers: { host: HOST, origin: ORIGIN, ...FORM }, payload: '' },
      { headers: { host: HOST, origin: ORIGIN, ...FORM }, payload: form('guess') },
      { headers: { host: HOST, origin: 'http://evil.example', ...FORM }, payload: form(TOKEN) },
      { headers: { host: HOST, origin: 'null', ...FORM }, payload: form(TOKEN) },
      { headers: { host: HOST, ...FORM }, payload: form(TOKEN) },
      { headers: { host: HOST, origin: ORIGIN, 'content-type': 'text/plain' }, payload: `token=${TOKEN}` },
    ];
    for (const attempt of attempts) {
      const answer = await app.inject({ method: 'POST', url, ...attempt });
      expect(answer.statusCode, JSON.stringify(attempt)).toBe(403);
      expect(answer.json<{ code: string }>().code).toBe('CS_ERR_DASHBOARD_FORBIDDEN');
    }
    expect(src.actions).toEqual([]);
    await app.close();
  });

  it('refuses (403) every request whose Host is not the dashboard, a loopback name or a configured one', async () => {
    const src = source();
    const app = dashboard(src, ['serving.internal']);
    for (const host of ['evil.example:8081', 'attacker.127.0.0.1.nip.io', 'localhost.evil.example']) {
      const page = await app.inject({ method: 'GET', url: '/', headers: { host } });
      expect(page.statusCode, host).toBe(403);
      expect(page.json<{ code: string }>().code).toBe('CS_ERR_DASHBOARD_HOST');
      expect(page.body).not.toContain(TOKEN);
      const action = await app.inject({
        method: 'POST',
        url: `/jobs/${RUNNING_JOB.id}/cancel`,
        headers: { host, origin: `http://${host}`, ...FORM },
        payload: form(TOKEN),
      });
      expect(action.statusCode).toBe(403);
    }
    for (const host of ['localhost:8081', '127.0.0.1:8081', '[::1]:8081', 'SERVING.internal:8081']) {
      expect(
        (await app.inject({ method: 'GET', url: '/api/jobs', headers: { host } })).statusCode,
        host,
      ).toBe(200);
    }
    expect(src.actions).toEqual([]);
    await app.close();
  });

  it('never changes anything on a GET, whatever the path', async () => {
    const src = source();
    const app = dashboard(src);
    for (const url of [
      '/',
      `/jobs/${RUNNING_JOB.id}`,
      '/api/jobs',
      '/dashboard.js',
      `/jobs/${RUNNING_JOB.id}/cancel`,
      `/jobs/${RUNNING_JOB.id}/stop?token=${TOKEN}`,
    ]) {
      const answer = await app.inject({ method: 'GET', url, headers: { host: HOST, origin: ORIGIN } });
      expect(answer.statusCode === 200 || answer.statusCode === 404, url).toBe(true);
    }
    expect(src.actions).toEqual([]);
    expect((await src.jobs())[0]?.state).toBe('running');
    await app.close();
  });

  it('forbids framing and foreign scripts on every page', async () => {
    const app = dashboard();
    const page = await app.inject({ method: 'GET', url: '/', headers: { host: HOST } });
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['x-frame-options']).toBe('DENY');
    await app.close();
  });
});

describe('dashboard hosts', () => {
  it('reads Host headers and CLUSTER_SERVING_DASHBOARD_HOSTS', () => {
    expect(hostName('LocalHost:8081')).toBe('localhost');
    expect(hostName('[::1]:80')).toBe('::1');
    expect(hostName('a b')).toBeUndefined();
    expect(dashboardHosts({ CLUSTER_SERVING_DASHBOARD_HOSTS: ' a.example, ,b ' })).toEqual([
      'a.example',
      'b',
    ]);
    expect(dashboardHosts({})).toEqual([]);
  });

  it('answers for the bound address, but not for any name when bound to every interface', () => {
    expect(() => new DashboardGuard('10.1.2.3').checkHost('10.1.2.3:8081')).not.toThrow();
    expect(() => new DashboardGuard('0.0.0.0').checkHost('0.0.0.0:8081')).toThrow();
    expect(() => new DashboardGuard('0.0.0.0').checkHost('evil.example')).toThrow();
  });
});
