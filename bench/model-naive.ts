/**
 * The naive baseline of `npm run bench:model`: a fastify server whose `/predict` handler
 * decodes the request's base64 JPEG with the same preprocessing as the workers and calls
 * session.run on it (no queue, no batching), as one process or several sharing the port
 * through node:cluster.
 *
 *   node --import tsx bench/model-naive.ts --model <path.onnx> --port <n> [--processes <n>]
 */
import './plain-runtime.js';
import { serveNaive } from './naive-cluster.js';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import * as ort from 'onnxruntime-node';
import type { ImageOptions } from '../src/config/types.js';
import { decodeImage } from '../src/worker/image-input.js';

/** PaddleOCR's classifier preprocessing, as the demo config sets it. */
export const CLASSIFIER_IMAGE: ImageOptions = {
  resize: { width: 192, height: 48 },
  resizeMode: 'keepAspect',
  channelOrder: 'bgr',
  layout: 'chw',
  scale: 1 / 255,
  mean: [0.5, 0.5, 0.5],
  std: [0.5, 0.5, 0.5],
  padValue: 0,
};

const SPEC = { name: 'x', datatype: 'FP32' as const, shape: [-1, 3, -1, -1] };

async function serve(modelPath: string, port: number): Promise<void> {
  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  const app = Fastify({ bodyLimit: 16 * 1024 * 1024 });
  app.post('/predict', async (request) => {
    const body = request.body as { instances: { x: string }[] };
    const predictions: string[] = [];
    for (const instance of body.instances) {
      const pixels = await decodeImage(instance.x, SPEC, CLASSIFIER_IMAGE, 'x');
      const results = await session.run({ x: new ort.Tensor('float32', pixels.data, [1, ...pixels.shape]) });
      const [output] = Object.values(results);
      const value = JSON.stringify({ data: Array.from(output?.data as Float32Array), shape: [2] });
      predictions.push(JSON.stringify({ value }));
    }
    return { predictions };
  });
  await app.listen({ host: '127.0.0.1', port });
  process.send?.({ type: 'ready' });
}

const isEntry = process.argv[1]?.endsWith('model-naive.ts') === true;
if (isEntry) {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      port: { type: 'string' },
      processes: { type: 'string', default: '1' },
    },
  });
  const processes = Number(values.processes);
  if (values.model === undefined || values.port === undefined) {
    console.error('usage: model-naive.ts --model <path.onnx> --port <n> [--processes <n>]');
    process.exit(2);
  }
  const model = values.model;
  await serveNaive(processes, () => serve(model, Number(values.port)));
}
