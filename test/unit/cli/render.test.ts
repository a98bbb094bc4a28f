import { describe, expect, it } from 'vitest';
import { formatUptime, renderJobTable, renderStarted, workersCell } from '../../../src/cli/render.js';
import type { ListedJob } from '../../../src/supervisor/job-record.js';
import { RUNNING_JOB } from '../../fixtures/listed-job.js';

const job = RUNNING_JOB;

describe('CLI rendering', () => {
  it('formats uptime and worker counts', () => {
    expect([formatUptime(null), formatUptime(5), formatUptime(65), formatUptime(3725)]).toEqual([
      '-',
      '5s',
      '1m05s',
      '1h02m',
    ]);
    expect(workersCell(job)).toBe('3/3 (1 remote)');
    expect(workersCell({ ...job, workers: { ...job.workers, ready: 1, total: 2, remote: 0 } })).toBe('1/2');
  });

  it('renders a table with one row per job and the last error of failed ones', () => {
    const failed: ListedJob = {
      ...job,
      id: 'ffff0000',
      name: 'broken',
      state: 'failed',
      lastError: 'worker 1: model is corrupt',
      processed: null,
    };
    const lines = renderJobTable([job, failed]).trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^ID\s+NAME\s+STATE\s+WORKERS\s+HOSTS/);
    expect(lines[1]).toMatch(
      /ab12cd34\s+serving_stream\s+running\s+3\/3 \(1 remote\)\s+a:2 b:1\s+1\s+42\s+0\s+1\s+1h02m\s+mlp\.onnx/,
    );
    expect(lines[2]).toMatch(/ffff0000\s+broken\s+failed/);
    expect(lines[3]).toBe('broken (ffff0000) failed: worker 1: model is corrupt');
  });

  it('tells how to reach the job and stop it after start, one command per line', () => {
    const text = renderStarted(job);
    expect(text).toContain('job serving_stream (id ab12cd34) is serving');
    expect(text).toContain('  http:      http://127.0.0.1:10020\n');
    expect(text).toContain('model inputs: curl -s http://127.0.0.1:10020/v2/models/serving_stream\n');
    expect(text).toContain('stop it:      cluster-serving stop serving_stream\n');
    expect(text).toContain('stop it now:  cluster-serving cancel serving_stream\n');
    expect(renderStarted({ ...job, http: null, httpBound: null })).toContain(
      "InputQueue({ redisUrl: 'redis://localhost:6379', name: 'serving_stream' })",
    );
  });

  it('names a wildcard frontend as bound, with the address that reaches it', () => {
    const wild = { ...job, httpBound: 'http://0.0.0.0:10020' };
    expect(renderStarted(wild)).toContain(
      "  http:      http://0.0.0.0:10020 (reachable at http://127.0.0.1:10020 and this host's addresses)\n",
    );
    expect(renderJobTable([wild])).toMatch(/mlp\.onnx .* http:\/\/0\.0\.0\.0:10020\n$/);
    expect(renderStarted({ ...job, http: null, httpBound: null })).toMatch(
      /^ {2}http: +none \(no HTTP frontend: add an http: section/m,
    );
  });
});
