import type { FastifyInstance } from 'fastify';
import { CsError } from '../errors/registry.js';
import { decodeInstances } from '../protocol/json-instances.js';
import type { NamedTensor } from '../protocol/tensor.js';
import type { Prediction } from './backend.js';
import { predictionElement, prepareInstance } from './bigdl-predict.js';
import { bodyBytes } from './http-errors.js';
import type { RouteContext } from './route-context.js';

const INSTANCES_EXAMPLE = '{"instances":[{"<input name>": [1.0, 2.0, ...]}]}';

/**
 * BigDL's `POST /predict`: each instance becomes one stream entry (all written in one round
 * trip when they arrive together) and the answer lists the predictions in request order.
 * One failed instance fails the request with its reason (BigDL answered "NaN" in its place).
 */
export function registerBigdlRoutes(app: FastifyInstance, context: RouteContext): void {
  const { backend } = context;
  app.post('/predict', { onRequest: context.admit }, async (request, reply) => {
    let t = performance.now();
    const bytes = bodyBytes(request.body, INSTANCES_EXAMPLE);
    const instances: NamedTensor[][] = decodeInstances(bytes);
    t = context.stage('parse', t);

    const model = await context.readyModel();
    const entries = instances.map((instance, index) => prepareInstance(instance, index, model));
    t = context.stage('validate', t);

    const timeoutMs = context.http.requestTimeout;
    const settled = await Promise.allSettled(
      entries.map((entry) =>
        entry.kind === 'tensors'
          ? backend.submit(entry.inputs, { timeoutMs })
          : backend.submitBigdlJson(entry.body, { timeoutMs }),
      ),
    );
    t = context.stage('submit', t);

    const elements = new Array<string>(settled.length);
    for (let i = 0; i < settled.length; i++) {
      const outcome = settled[i] as PromiseSettledResult<Prediction>;
      if (outcome.status === 'rejected') throw prefixed(outcome.reason, i, settled.length);
      const prediction = outcome.value;
      if (prediction.kind === 'error') {
        throw prefixed(new CsError(prediction.code, prediction.message), i, settled.length);
      }
      // Each instance ran as a batch of one (the batch dimension was added for it): drop it again.
      elements[i] = predictionElement(
        prediction.kind === 'text' ? prediction.text : prediction.outputs,
        !model.inputAlreadyBatched,
      );
    }
    const body = `{"predictions":${JSON.stringify(elements)}}`;
    context.stage('encode', t);
    // Returned, so fastify waits for the onSend hooks (compression) before it ends the request.
    return reply.type('application/json').send(body);
  });
}

/** Names the instance in the error when the request held several. */
function prefixed(error: unknown, index: number, count: number): unknown {
  if (!(error instanceof CsError) || count === 1) return error;
  return new CsError(error.code, `instances[${index}]: ${error.message}`, { cause: error });
}
