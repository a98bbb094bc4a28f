/**
 * Small models for the input tests, generated here (the shared fixtures cover numeric and
 * string identities; these add image-shaped and string-to-number models).
 *
 * | kind          | inputs                        | outputs                                   |
 * |---------------|-------------------------------|-------------------------------------------|
 * | image         | x FP32 [N,3,H,W] (H, W free)  | y FP32 [N,3,H,W] (the pixels, unchanged)  |
 * | image-fixed   | x FP32 [N,3,4,6]              | y FP32 [N,3,4,6]                          |
 * | image-hwc     | x FP32 [N,H,W,3]              | y FP32 [N,H,W,3]                          |
 * | image-u8      | x UINT8 [N,3,H,W]             | y UINT8 [N,3,H,W]                         |
 * | words         | text BYTES [N,K]              | ids FP32 [N,K]: cat 1, dog 2, other −1    |
 * | words-rows    | text BYTES [N]                | ids FP32 [N] (the same encoding)          |
 * | all-numeric   | x_<T> <T> [N,2], every numeric T | y_<T> <T> [N,2] (each an identity)     |
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { encodeModel, node, valueInfo, type Dim } from '../../fixtures/onnx-builder.js';
import { DATA_TYPES, type DataType } from '../../../src/protocol/tensor.js';

const { onnx } = onnxProto;

export type InputModelKind =
  'image' | 'image-fixed' | 'image-hwc' | 'image-u8' | 'words' | 'words-rows' | 'all-numeric';

export const NUMERIC_TYPES = DATA_TYPES.filter((t): t is Exclude<DataType, 'BYTES'> => t !== 'BYTES');

function identity(type: DataType, dims: readonly Dim[]): Uint8Array {
  return encodeModel({
    name: 'image-identity',
    inputs: [valueInfo('x', type, dims)],
    outputs: [valueInfo('y', type, dims)],
    nodes: [node('Identity', ['x'], ['y'])],
  });
}

/** ai.onnx.ml LabelEncoder: each string to a float, so string inputs can be checked on BigDL's float path. */
function words(dims: readonly Dim[]): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 7,
    producerName: 'cluster-serving-input-tests',
    opsetImport: [
      { domain: '', version: 13 },
      { domain: 'ai.onnx.ml', version: 2 },
    ],
    graph: {
      name: 'words',
      input: [valueInfo('text', 'BYTES', dims)],
      output: [valueInfo('ids', 'FP32', dims)],
      node: [
        {
          opType: 'LabelEncoder',
          domain: 'ai.onnx.ml',
          input: ['text'],
          output: ['ids'],
          attribute: [
            {
              name: 'keys_strings',
              type: onnx.AttributeProto.AttributeType.STRINGS,
              strings: ['cat', 'dog'].map((s) => Buffer.from(s)),
            },
            { name: 'values_floats', type: onnx.AttributeProto.AttributeType.FLOATS, floats: [1, 2] },
            { name: 'default_float', type: onnx.AttributeProto.AttributeType.FLOAT, f: -1 },
          ],
        },
      ],
    },
  });
  const bytes = onnx.ModelProto.encode(model).finish();
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function buildInputModel(kind: InputModelKind): Uint8Array {
  switch (kind) {
    case 'image':
      return identity('FP32', ['batch', 3, 'h', 'w']);
    case 'image-fixed':
      return identity('FP32', ['batch', 3, 4, 6]);
    case 'image-hwc':
      return identity('FP32', ['batch', 'h', 'w', 3]);
    case 'image-u8':
      return identity('UINT8', ['batch', 3, 'h', 'w']);
    case 'words':
      return words(['batch', 'k']);
    case 'words-rows':
      return words(['batch']);
    case 'all-numeric':
      return encodeModel({
        name: 'all-numeric',
        inputs: NUMERIC_TYPES.map((t) => valueInfo(`x_${t}`, t, ['batch', 2])),
        outputs: NUMERIC_TYPES.map((t) => valueInfo(`y_${t}`, t, ['batch', 2])),
        nodes: NUMERIC_TYPES.map((t) => node('Identity', [`x_${t}`], [`y_${t}`])),
      });
  }
}

/** Writes `<dir>/<kind>/<kind>.onnx` and returns the file's path. */
export async function writeInputModel(dir: string, kind: InputModelKind): Promise<string> {
  const modelDir = join(dir, kind);
  await mkdir(modelDir, { recursive: true });
  const path = join(modelDir, `${kind}.onnx`);
  await writeFile(path, buildInputModel(kind));
  return path;
}
