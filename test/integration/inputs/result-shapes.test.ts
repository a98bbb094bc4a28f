/**
 * BigDL results through a real worker, decoded as BigDL's Python client decodes them (see
 * test/helpers/bigdl-python-client.ts), for every output shape of PYTHON_SHAPES and every
 * numeric output type, all in one result; and a zero-element output answered as a failure.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  encodeModel,
  floatInitializer,
  int64Initializer,
  node,
  ONNX_ELEM_TYPE,
  valueInfo,
  type INodeProto,
} from '../../fixtures/onnx-builder.js';
import { PYTHON_SHAPES, pythonClientDecode } from '../../helpers/bigdl-python-client.js';
import { waitFor } from '../../helpers/wait-for.js';
import { keys } from '../../../src/redis/keys.js';
import { InputHarness, tensors, type ServedJob } from './input-harness.js';
import { NUMERIC_TYPES } from './input-models.js';

/** The constant an output of `count` elements is made of (times x): 1..7 repeating. */
const pattern = (count: number): number[] => Array.from({ length: count }, (_, k) => (k % 7) + 1);

/**
 * x FP32 [1,1] (one BigDL sample [1], not batchable, so each record runs alone) → for every
 * shape S of `shapes` and type T of `types`: y_T_i = Cast(x · C_S, T), with C_S = pattern.
 */
function shapesModel(shapes: readonly number[][], types: readonly string[]): Uint8Array {
  const nodes: INodeProto[] = [node('Reshape', ['x', 'scalar_shape'], ['s'])];
  const initializers = [int64Initializer('scalar_shape', [])];
  const outputs = [];
  for (const [i, shape] of shapes.entries()) {
    const count = shape.reduce((a, b) => a * b, 1);
    initializers.push(floatInitializer(`c_${i}`, shape, Float32Array.from(pattern(count))));
    nodes.push(node('Mul', ['s', `c_${i}`], [`m_${i}`]));
    for (const type of types) {
      const name = `y_${type}_${i}`;
      const t = type as keyof typeof ONNX_ELEM_TYPE;
      nodes.push(
        type === 'FP32'
          ? node('Identity', [`m_${i}`], [name])
          : node('Cast', [`m_${i}`], [name], { to: ONNX_ELEM_TYPE[t] }),
      );
      outputs.push(valueInfo(name, t, shape));
    }
  }
  return encodeModel({
    name: 'result-shapes',
    inputs: [valueInfo('x', 'FP32', [1, 1])],
    outputs,
    nodes,
    initializers,
  });
}

async function writeShapesModel(dir: string, name: string, bytes: Uint8Array): Promise<string> {
  await mkdir(join(dir, name), { recursive: true });
  const path = join(dir, name, `${name}.onnx`);
  await writeFile(path, bytes);
  return path;
}

describe('BigDL results as BigDL’s Python client reads them, through a real worker', () => {
  let harness: InputHarness;
  let shapes: ServedJob;
  let empty: ServedJob;

  beforeAll(async () => {
    harness = await InputHarness.create();
    const table = PYTHON_SHAPES.map((row) => row.shape);
    shapes = await harness.serve(
      'shapes',
      await writeShapesModel(harness.dir, 'shapes', shapesModel(table, NUMERIC_TYPES)),
    );
    empty = await harness.serve(
      'empty',
      await writeShapesModel(harness.dir, 'empty', shapesModel([[2], [0, 3]], ['FP32'])),
    );
  });

  afterAll(async () => {
    await harness.close();
  });

  /** The result hash's `value` as BigDL's Python client reads it from Redis. */
  async function rawValue(job: ServedJob, uri: string): Promise<string> {
    const redis = harness.redis.client();
    return waitFor(async () => (await redis.hget(keys.result(job.name, uri), 'value')) ?? undefined, {
      what: `the result hash of ${uri}`,
    });
  }

  it('every shape and numeric type: no nulls, the reshape fits, values cast to float', async () => {
    await shapes.bigdl.enqueue('all-shapes', { x: { data: [2], shape: [1] } });
    const arrays = pythonClientDecode(await rawValue(shapes, 'all-shapes'));
    expect(arrays).toHaveLength(PYTHON_SHAPES.length * NUMERIC_TYPES.length);
    let k = 0;
    for (const row of PYTHON_SHAPES) {
      const count = row.shape.reduce((a, b) => a * b, 1);
      for (const type of NUMERIC_TYPES) {
        const array = arrays[k++]!;
        const what = `${type} [${row.shape.join(',')}]`;
        expect(array.shape, what).toEqual(row.python);
        expect(array.data, what).toEqual(pattern(count).map((v) => (type === 'BOOL' ? 1 : 2 * v)));
      }
    }
  });

  it('our OutputQueue and predict() still return the full shapes', async () => {
    const queried = await shapes.result('all-shapes');
    expect(queried.status).toBe('tensors');
    const fromHash = queried.status === 'tensors' ? Object.values(queried.outputs) : [];
    const fromReply = Object.values(tensors(await shapes.bigdl.predict({ x: { data: [2], shape: [1] } })));
    const expected = PYTHON_SHAPES.flatMap((row) => NUMERIC_TYPES.map(() => row.shape));
    expect(fromHash.map((t) => t.shape)).toEqual(expected);
    expect(fromReply.map((t) => t.shape)).toEqual(expected);
  });

  it('a zero-element output is answered NaN with an error naming it; our tensor form carries it', async () => {
    await empty.bigdl.enqueue('empty-one', { x: { data: [2], shape: [1] } });
    expect(await rawValue(empty, 'empty-one')).toBe('NaN');
    const redis = harness.redis.client();
    expect(await redis.hget(keys.result('empty', 'empty-one'), 'error')).toMatch(
      /output 1 has shape \[0,3\], no elements: BigDL's result form cannot carry an empty output/,
    );
    const failed = await empty.result('empty-one');
    expect(failed).toMatchObject({ status: 'error', code: 'CS_ERR_INFERENCE_FAILED' });
    const out = tensors(await empty.client.predict({ x: { data: [2], shape: [1, 1], type: 'FP32' } }));
    expect(Object.values(out).map((t) => t.shape)).toEqual([[2], [0, 3]]);
  });
});
