import { describe, expect, it } from 'vitest';
import { buildServer } from '../../../src/frontend/server.js';
import { CsError } from '../../../src/errors/registry.js';
import { decodeTotals } from '../../../src/redis/stats-schema.js';
import { FakeBackend, httpOptions } from './fake-backend.js';

function server(backend = new FakeBackend()): ReturnType<typeof buildServer> {
  return buildServer({ backend, http: httpOptions({ redisInputQueue: 'mlp' }) });
}

const TOTALS = decodeTotals({
  processed: '12',
  batches: '3',
  'batch:4': '3',
  'batch_ns:4': '3000000',
  success_count: '12',
  success_ns: '48000000',
  fail_count: '1',
  fail_ns: '2000000',
  queue_count: '13',
  queue_ns: '13000000',
  input_count: '12',
  input_ns: '1200000',
  infer_count: '12',
  infer_ns: '12000000',
  output_count: '12',
  output_ns: '600000',
  last_inference: '1765000000000',
});

describe("Triton's statistics routes", () => {
  it("answer Triton's model_stats form for every route spelling", async () => {
    const backend = new FakeBackend();
    backend.totalsValue = TOTALS;
    const app = server(backend);
    for (const url of ['/v2/models/stats', '/v2/models/mlp/stats', '/v2/models/mlp/versions/1/stats']) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(200);
      expect(response.json()).toEqual({
        model_stats: [
          {
            name: 'mlp',
            version: '1',
            last_inference: 1765000000000,
            inference_count: 12,
            execution_count: 3,
            inference_stats: {
              success: { count: 12, ns: 48000000 },
              fail: { count: 1, ns: 2000000 },
              queue: { count: 13, ns: 13000000 },
              compute_input: { count: 12, ns: 1200000 },
              compute_infer: { count: 12, ns: 12000000 },
              compute_output: { count: 12, ns: 600000 },
              cache_hit: { count: 0, ns: 0 },
              cache_miss: { count: 0, ns: 0 },
            },
            batch_stats: [
              {
                batch_size: 4,
                compute_input: { count: 3, ns: 0 },
                compute_infer: { count: 3, ns: 3000000 },
                compute_output: { count: 3, ns: 0 },
              },
            ],
          },
        ],
      });
    }
    await app.close();
  });

  it('answer 404 for another model or version, 503 when Redis cannot be read', async () => {
    const backend = new FakeBackend();
    const app = server(backend);
    const other = await app.inject({ method: 'GET', url: '/v2/models/other/stats' });
    expect(other.statusCode).toBe(404);
    expect(other.json<{ error: string }>().error).toContain('unknown model "other"');
    const version = await app.inject({ method: 'GET', url: '/v2/models/mlp/versions/2/stats' });
    expect(version.statusCode).toBe(404);
    backend.statusError = new CsError('CS_ERR_REDIS_UNAVAILABLE', 'Redis is not reachable');
    const down = await app.inject({ method: 'GET', url: '/v2/models/stats' });
    expect(down.statusCode).toBe(503);
    await app.close();
  });
});
