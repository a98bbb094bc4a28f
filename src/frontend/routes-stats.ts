import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CsError } from '../errors/registry.js';
import type { DurationStat, JobTotals } from '../redis/stats-schema.js';
import type { PredictionBackend } from './backend.js';

/** The version OIP routes answer for (routes-oip.ts): a job serves one model version. */
const MODEL_VERSION = '1';

interface StatsParams {
  readonly name?: string;
  readonly version?: string;
}

function duration(stat: DurationStat): { count: number; ns: number } {
  return { count: stat.count, ns: stat.ns };
}

/** Triton's `$model_stat` for the job, from the totals every worker on every host adds to. */
export function modelStatJson(job: string, totals: JobTotals): Record<string, unknown> {
  const { stats } = totals;
  const zero = { count: 0, ns: 0 };
  return {
    name: job,
    version: MODEL_VERSION,
    last_inference: totals.lastInference,
    inference_count: totals.inferenceCount,
    execution_count: totals.executionCount,
    inference_stats: {
      success: duration(stats.success),
      fail: duration(stats.fail),
      queue: duration(stats.queue),
      compute_input: duration(stats.compute_input),
      compute_infer: duration(stats.compute_infer),
      compute_output: duration(stats.compute_output),
      cache_hit: zero,
      cache_miss: zero,
    },
    // Workers time only the model run of each execution; input and output work is per batch
    // and reported in inference_stats.
    batch_stats: [...totals.batches].map(([size, stat]) => ({
      batch_size: size,
      compute_input: { count: stat.count, ns: 0 },
      compute_infer: duration(stat),
      compute_output: { count: stat.count, ns: 0 },
    })),
  };
}

/**
 * Triton's statistics extension: `GET /v2/models/stats` (every model this frontend serves:
 * its job) and `GET /v2/models/{name}[/versions/{version}]/stats`. A static route, so
 * `/v2/models/stats` is never read as a model named `stats` (config refuses that jobName).
 */
export function registerStatsRoutes(
  app: FastifyInstance,
  context: { readonly backend: PredictionBackend; readonly job: string },
): void {
  const { backend, job } = context;
  const answer = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const { name, version } = request.params as StatsParams;
    if (name !== undefined && name !== job) {
      throw new CsError(
        'CS_ERR_HTTP_MODEL_NOT_FOUND',
        `unknown model "${name}"; this frontend serves "${job}"`,
      );
    }
    if (version !== undefined && version !== MODEL_VERSION) {
      throw new CsError(
        'CS_ERR_HTTP_MODEL_NOT_FOUND',
        `model "${job}" has no version "${version}"; its only version is "${MODEL_VERSION}"`,
      );
    }
    const totals = await backend.totals();
    // Returned, so that an answer compressed in onSend is the one sent (see server.ts).
    return reply.header('cache-control', 'no-store').send({ model_stats: [modelStatJson(job, totals)] });
  };
  app.get('/v2/models/stats', answer);
  app.get('/v2/models/:name/stats', answer);
  app.get('/v2/models/:name/versions/:version/stats', answer);
}
