/**
 * The recommendation-shaped model of `npm run bench:http`, built here as BigDL's flagship
 * uses were shaped (NCF, wide & deep): small inputs, small compute, many requests.
 *
 *   user_id INT64 [N,1], item_id INT64 [N,1], history INT64 [N,20], dense FP32 [N,10]
 *   → score FP32 [N,1]
 *
 * Embedding tables of 10k × 32 (users, items; the history shares the item table and is
 * averaged), concatenated with the dense features (106 wide), then an MLP 106 → 64 → 1.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  encodeModel,
  floatInitializer,
  node,
  seededUniform,
  valueInfo,
} from '../test/fixtures/onnx-builder.js';

export const REC_IDS = 10_000;
export const REC_HISTORY = 20;
export const REC_DENSE = 10;
const DIM = 32;
const HIDDEN = 64;
const WIDE = 3 * DIM + REC_DENSE;

export function buildRecModel(): Uint8Array {
  return encodeModel({
    name: 'rec',
    inputs: [
      valueInfo('user_id', 'INT64', ['N', 1]),
      valueInfo('item_id', 'INT64', ['N', 1]),
      valueInfo('history', 'INT64', ['N', REC_HISTORY]),
      valueInfo('dense', 'FP32', ['N', REC_DENSE]),
    ],
    outputs: [valueInfo('score', 'FP32', ['N', 1])],
    initializers: [
      floatInitializer('users', [REC_IDS, DIM], seededUniform(1, REC_IDS * DIM, 0.1)),
      floatInitializer('items', [REC_IDS, DIM], seededUniform(2, REC_IDS * DIM, 0.1)),
      floatInitializer('w1', [WIDE, HIDDEN], seededUniform(3, WIDE * HIDDEN, 0.2)),
      floatInitializer('b1', [HIDDEN], seededUniform(4, HIDDEN, 0.1)),
      floatInitializer('w2', [HIDDEN, 1], seededUniform(5, HIDDEN, 0.2)),
      floatInitializer('b2', [1], seededUniform(6, 1, 0.1)),
    ],
    nodes: [
      node('Gather', ['users', 'user_id'], ['u3']),
      node('Flatten', ['u3'], ['u'], { axis: 1 }),
      node('Gather', ['items', 'item_id'], ['i3']),
      node('Flatten', ['i3'], ['i'], { axis: 1 }),
      node('Gather', ['items', 'history'], ['h3']),
      node('ReduceMean', ['h3'], ['h'], { axes: [1], keepdims: 0 }),
      node('Concat', ['u', 'i', 'h', 'dense'], ['x'], { axis: 1 }),
      node('MatMul', ['x', 'w1'], ['x1']),
      node('Add', ['x1', 'b1'], ['x2']),
      node('Relu', ['x2'], ['x3']),
      node('MatMul', ['x3', 'w2'], ['x4']),
      node('Add', ['x4', 'b2'], ['x5']),
      node('Sigmoid', ['x5'], ['score']),
    ],
  });
}

export async function writeRecModel(dir: string): Promise<string> {
  const path = join(dir, 'rec.onnx');
  await writeFile(path, buildRecModel());
  return path;
}

/** One request's values: ids spread over the tables, a 20-item history, 10 dense features. */
export function recSample(): {
  user_id: number[];
  item_id: number[];
  history: number[];
  dense: number[];
} {
  return {
    user_id: [4711],
    item_id: [815],
    history: Array.from({ length: REC_HISTORY }, (_, i) => (i * 487 + 13) % REC_IDS),
    dense: Array.from({ length: REC_DENSE }, (_, i) => Math.sin(i) * 0.5),
  };
}
