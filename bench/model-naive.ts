/**
 * The naive baseline of `npm run bench:model`: a fastify server whose `/predict` handler
 * decodes the request's base64 JPEG with sharp, brings it to the model's tensor with the same
 * pixel arithmetic as the workers, and calls session.run on it (no queue, no batching), as one
 * process or several sharing the port through node:cluster. With `--decoder serving` it
 * decodes through the workers' own image path instead (small JPEGs in WebAssembly).
 *
 *   node --import tsx bench/model-naive.ts --model <path.onnx> --port <n> [--processes <n>]
 *     [--decoder sharp|serving]
 */
import './plain-runtime.js';
import { serveNaive } from './naive-cluster.js';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import * as ort from 'onnxruntime-node';
import { BIGDL_IMAGE_OPTIONS } from '../src/config/image-keys.js';
import type { ImageOptions } from '../src/config/types.js';
import sharp from 'sharp';
import { decodeImage } from '../src/worker/image-input.js';
import { resizedSize, toPixels, type PixelTensor } from '../src/worker/pixels.js';

/** PaddleOCR's classifier preprocessing, as the demo config sets it. */
export const CLASSIFIER_IMAGE: ImageOptions = {
  ...BIGDL_IMAGE_OPTIONS,
  resize: { width: 192, height: 48 },
  resizeMode: 'keepAspect',
  scale: 1 / 255,
  mean: [0.5, 0.5, 0.5],
  std: [0.5, 0.5, 0.5],
};

const SPEC = { name: 'x', datatype: 'FP32' as const, shape: [-1, 3, -1, -1] };

/** What a user of sharp writes: decode to raw pixels, then resize, pad and normalise. */
export async function sharpDecode(base64: string): Promise<PixelTensor> {
  const { data, info } = await sharp(Buffer.from(base64, 'base64'))
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const target = CLASSIFIER_IMAGE.resize ?? info;
  const resized = resizedSize(info, target, CLASSIFIER_IMAGE.resizeMode);
  return toPixels(data, info.channels, info, resized, target, CLASSIFIER_IMAGE);
}

async function serve(modelPath: string, port: number, decoder: string): Promise<void> {
  const decode =
    decoder === 'serving'
      ? (base64: string): Promise<PixelTensor> => decodeImage(base64, SPEC, CLASSIFIER_IMAGE, 'x')
      : sharpDecode;
  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  const app = Fastify({ bodyLimit: 16 * 1024 * 1024 });
  app.post('/predict', async (request) => {
    const body = request.body as { instances: { x: string }[] };
    const predictions: string[] = [];
    for (const instance of body.instances) {
      const pixels = await decode(instance.x);
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
      decoder: { type: 'string', default: 'sharp' },
    },
  });
  const processes = Number(values.processes);
  if (values.model === undefined || values.port === undefined) {
    console.error(
      'usage: model-naive.ts --model <path.onnx> --port <n> [--processes <n>] [--decoder sharp|serving]',
    );
    process.exit(2);
  }
  const model = values.model;
  await serveNaive(processes, () => serve(model, Number(values.port), values.decoder ?? 'sharp'));
}
