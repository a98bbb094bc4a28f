import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CsError, reasonOf } from '../errors/registry.js';
import type { TensorSpec } from '../protocol/model-metadata.js';
import type { NamedTensor } from '../protocol/tensor.js';
import { bodyBytes } from './http-errors.js';
import { parseInferBody } from './infer-body.js';
import { classify } from '../protocol/classification.js';
import { checkClassifications, checkInferInputs, checkOutputFilter } from './model-check.js';
import { binaryTensorBytes, HEADER_LENGTH, splitBinaryBody } from './oip-binary.js';
import { decodeInferRequest } from './oip-request.js';
import type { RouteContext } from './route-context.js';
import { tritonModelConfig } from './triton-config.js';
import { shapeJson, tensorDataJson } from './tensor-json.js';

interface NameParams {
  readonly name: string;
  readonly version?: string;
}

/** A job serves one model; OIP clients that name a version use this one. */
const MODEL_VERSION = '1';

/** Each model route, also under `/versions/{version}` as OIP allows. */
const modelPaths = (suffix: string): string[] => [
  `/v2/models/:name${suffix}`,
  `/v2/models/:name/versions/:version${suffix}`,
];

/** The output a postProcessing job answers with instead of tensors. */
const TEXT_OUTPUT = 'postprocessing';

function specJson(spec: TensorSpec): { name: string; datatype: string; shape: readonly number[] } {
  return { name: spec.name, datatype: spec.datatype, shape: spec.shape };
}

/** An output answered in binary: its bytes follow the JSON header. */
function binaryOutputJson(tensor: NamedTensor, size: number): string {
  return `{"name":${JSON.stringify(tensor.name)},"datatype":"${tensor.type}","shape":${shapeJson(tensor.shape)},"parameters":{"binary_data_size":${size}}}`;
}

function outputJson(tensor: NamedTensor): string {
  return `{"name":${JSON.stringify(tensor.name)},"datatype":"${tensor.type}","shape":${shapeJson(tensor.shape)},"data":${tensorDataJson(tensor)}}`;
}

/**
 * Open Inference Protocol (KServe v2) routes. One frontend serves one job, whose name is the
 * model name; other names get 404. Readiness means a warmed worker is alive for the job.
 */
export function registerOipRoutes(app: FastifyInstance, context: RouteContext): void {
  const { backend, job } = context;

  const knownModel = async (request: FastifyRequest): Promise<void> => {
    const { name, version } = request.params as NameParams;
    if (name !== job) {
      throw new CsError(
        'CS_ERR_HTTP_MODEL_NOT_FOUND',
        `unknown model "${name}"; this frontend serves "${job}"`,
      );
    }
    if (version !== undefined && version !== MODEL_VERSION) {
      throw new CsError(
        'CS_ERR_HTTP_MODEL_NOT_FOUND',
        `model "${name}" has no version "${version}"; its only version is "${MODEL_VERSION}"`,
      );
    }
  };

  // Async handlers return the reply they sent, so fastify waits for the onSend hooks (the
  // answer's compression) instead of sending a second, empty answer.
  const notReady = (reply: FastifyReply, error: unknown, extra: Record<string, unknown>): FastifyReply => {
    const message = error instanceof CsError ? error.message : reasonOf(error);
    return reply
      .code(503)
      .header('retry-after', '1')
      .type('application/json')
      .send(JSON.stringify({ ...extra, ready: false, error: message }));
  };

  app.get('/v2', (_request, reply) => {
    void reply.send({
      name: 'cluster-serving',
      version: context.version,
      extensions: ['binary_tensor_data', 'classification', 'model_configuration', 'statistics'],
    });
  });

  // Triton's clients read only the status; the body also says how the link to Redis is.
  const redisLink = (): Record<string, unknown> =>
    backend.redisLink === undefined ? {} : { redis: backend.redisLink() };

  app.get('/v2/health/live', (_request, reply) => {
    void reply.send({ live: true, ...redisLink() });
  });

  app.get('/v2/health/ready', async (_request, reply) => {
    try {
      await context.readyModel();
      return reply.send({ ready: true, ...redisLink() });
    } catch (error) {
      return notReady(reply, error, redisLink());
    }
  });

  const metadata = async (_request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const status = await backend.status();
    if (status.model === undefined) {
      throw new CsError('CS_ERR_NO_WORKER', `no worker has loaded the model of job "${job}" yet; start one`);
    }
    const model = status.model;
    return reply.send({
      name: job,
      versions: [MODEL_VERSION],
      platform: model.platform,
      inputs: model.inputs.map(specJson),
      outputs: model.outputs.map(specJson),
    });
  };

  const config = async (_request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const status = await backend.status();
    if (status.model === undefined) {
      throw new CsError('CS_ERR_NO_WORKER', `no worker has loaded the model of job "${job}" yet; start one`);
    }
    return reply.send(tritonModelConfig(job, status.model));
  };

  const modelReady = async (_request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    try {
      await context.readyModel();
      return reply.send({ name: job, ready: true });
    } catch (error) {
      return notReady(reply, error, { name: job });
    }
  };

  const infer = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    let t = performance.now();
    const bytes = bodyBytes(request.body, '{"inputs":[{"name":..,"shape":[..],"datatype":..,"data":[..]}]}');
    const { json, binary } = splitBinaryBody(bytes, request.headers[HEADER_LENGTH]);
    let parsed: unknown;
    try {
      parsed = parseInferBody(json);
    } catch (error) {
      const part = binary === undefined ? 'the body' : 'the JSON header';
      throw new CsError('CS_ERR_HTTP_BAD_REQUEST', `${part} is not valid JSON: ${reasonOf(error)}`);
    }
    const infer = decodeInferRequest(parsed, binary);
    t = context.stage('parse', t);

    const model = await context.readyModel();
    checkInferInputs(infer.inputs, model);
    checkOutputFilter(infer.outputs, model);
    checkClassifications(infer.classifications, model);
    t = context.stage('validate', t);

    const prediction = await backend.submit(infer.inputs, { timeoutMs: context.http.requestTimeout });
    t = context.stage('submit', t);
    if (prediction.kind === 'error') throw new CsError(prediction.code, prediction.message);

    let outputs: NamedTensor[];
    if (prediction.kind === 'text') {
      outputs = [{ name: TEXT_OUTPUT, type: 'BYTES', shape: [1], data: [prediction.text] }];
    } else if (infer.outputs === undefined) {
      outputs = prediction.outputs;
    } else {
      outputs = infer.outputs.flatMap((name) => prediction.outputs.filter((o) => o.name === name));
    }
    if (infer.classifications.size > 0) {
      outputs = outputs.map((o) => {
        const count = infer.classifications.get(o.name);
        return count === undefined ? o : classify(o, count, !model.inputAlreadyBatched);
      });
    }
    const id = infer.id === undefined ? '' : `,"id":${JSON.stringify(infer.id)}`;
    const inBinary = (o: NamedTensor): boolean =>
      infer.binaryOutputs === 'all' || infer.binaryOutputs.has(o.name);
    const tails = outputs.map((o) => (inBinary(o) ? binaryTensorBytes(o) : undefined));
    const parts = outputs.map((o, i) => {
      const tail = tails[i];
      return tail === undefined ? outputJson(o) : binaryOutputJson(o, tail.length);
    });
    const body = `{"model_name":${JSON.stringify(job)},"model_version":"${MODEL_VERSION}"${id},"outputs":[${parts.join(',')}]}`;
    const binaryParts = tails.filter((tail): tail is Buffer => tail !== undefined);
    if (binaryParts.length === 0) {
      context.stage('encode', t);
      return reply.type('application/json').send(body);
    }
    const header = Buffer.from(body, 'utf8');
    const payload = Buffer.concat([header, ...binaryParts]);
    context.stage('encode', t);
    return reply.type('application/octet-stream').header(HEADER_LENGTH, String(header.length)).send(payload);
  };

  for (const path of modelPaths('')) app.get(path, { onRequest: knownModel }, metadata);
  for (const path of modelPaths('/ready')) app.get(path, { onRequest: knownModel }, modelReady);
  for (const path of modelPaths('/config')) app.get(path, { onRequest: knownModel }, config);
  for (const path of modelPaths('/infer')) app.post(path, { onRequest: [knownModel, context.admit] }, infer);
}
