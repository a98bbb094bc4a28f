/**
 * The naive baseline of `npm run bench:http`: a fastify server that parses the OIP request
 * and calls session.run in its handler (no queue, no batching), as one process or as several
 * sharing the port through node:cluster.
 *
 *   node --import tsx bench/http-naive.ts --model <path.onnx> --port <n> [--processes <n>]
 */
import './plain-runtime.js';
import { serveNaive } from './naive-cluster.js';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import * as ort from 'onnxruntime-node';
import { ortFeeds } from './ort-feeds.js';

interface OipInput {
  readonly name: string;
  readonly shape: number[];
  readonly datatype?: string;
  readonly data: number[];
}

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    port: { type: 'string' },
    processes: { type: 'string', default: '1' },
  },
});
const processes = Number(values.processes);

async function serve(modelPath: string, port: number): Promise<void> {
  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  const app = Fastify({ bodyLimit: 64 * 1024 * 1024 });
  app.post('/v2/models/:name/infer', async (request) => {
    const body = request.body as { inputs: OipInput[] };
    const feeds = ortFeeds(body.inputs);
    const results = await session.run(feeds);
    return {
      model_name: (request.params as { name: string }).name,
      outputs: Object.entries(results).map(([name, t]) => ({
        name,
        datatype: 'FP32',
        shape: t.dims,
        data: Array.from(t.data as Float32Array),
      })),
    };
  });
  await app.listen({ host: '127.0.0.1', port });
  process.send?.({ type: 'ready' });
}

if (values.model === undefined || values.port === undefined) {
  console.error('usage: http-naive.ts --model <path.onnx> --port <n> [--processes <n>]');
  process.exit(2);
}

// Goes when the process that started it does, however that ends.
process.once('disconnect', () => process.exit(0));
const model = values.model;
await serveNaive(processes, () => serve(model, Number(values.port)));
