import * as ort from 'onnxruntime-node';

/** One OIP-style input as the benchmarks send it: numbers, INT64 or FP32. */
export interface NumberInput {
  readonly name: string;
  readonly datatype?: string;
  readonly shape: readonly number[];
  readonly data: readonly number[];
}

/** onnxruntime feeds for these inputs: INT64 as BigInt64Array, everything else as float32. */
export function ortFeeds(inputs: readonly NumberInput[]): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of inputs) {
    const shape = [...input.shape];
    feeds[input.name] =
      input.datatype === 'INT64'
        ? new ort.Tensor(
            'int64',
            BigInt64Array.from(input.data, (v) => BigInt(v)),
            shape,
          )
        : new ort.Tensor('float32', Float32Array.from(input.data), shape);
  }
  return feeds;
}
