import type { FastifyInstance } from 'fastify';
import { CsError, reasonOf } from '../errors/registry.js';
import type { RouteContext } from './route-context.js';

interface NameParams {
  readonly name: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `{"ready": true}` asks for the ready models only; an empty body for all of them. */
function readyOnly(body: unknown): boolean {
  if (!Buffer.isBuffer(body) || body.toString('utf8').trim() === '') return false;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new CsError('CS_ERR_HTTP_BAD_REQUEST', `the body is not valid JSON: ${reasonOf(error)}`);
  }
  const ready = isRecord(parsed) ? parsed['ready'] : undefined;
  if (!isRecord(parsed) || (ready !== undefined && typeof ready !== 'boolean')) {
    throw new CsError(
      'CS_ERR_HTTP_BAD_REQUEST',
      'the repository index takes an empty body or {"ready": true|false}',
    );
  }
  return ready === true;
}

/**
 * Triton's model repository extension, read-only: the index lists every job known in this
 * frontend's Redis (each job is one model, version "1"); jobs are started and stopped with the
 * CLI, so load and unload say so.
 */
export function registerRepositoryRoutes(app: FastifyInstance, context: RouteContext): void {
  app.post('/v2/repository/index', async (request, reply) => {
    const onlyReady = readyOnly(request.body);
    const entries = await context.backend.repository();
    const index = entries
      .filter((entry) => entry.ready || !onlyReady)
      .map((entry) =>
        entry.ready
          ? { name: entry.name, version: '1', state: 'READY' }
          : { name: entry.name, version: '1', state: 'UNAVAILABLE', reason: 'no live worker serves the job' },
      );
    return reply.type('application/json').send(JSON.stringify(index));
  });

  for (const action of ['load', 'unload'] as const) {
    app.post(`/v2/repository/models/:name/${action}`, (request) => {
      const { name } = request.params as NameParams;
      const how =
        action === 'load'
          ? 'start it with `cluster-serving start -c config.yaml` (jobName: the model name)'
          : `stop it with \`cluster-serving stop ${name}\``;
      throw new CsError(
        'CS_ERR_HTTP_BAD_REQUEST',
        `models are not ${action}ed over HTTP: each model is a job; ${how}`,
      );
    });
  }
}
