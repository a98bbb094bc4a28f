import { describe, expect, it } from 'vitest';
import { classify } from '../../../src/protocol/classification.js';
import type { NamedTensor } from '../../../src/protocol/tensor.js';

const tensor = (type: NamedTensor['type'], shape: number[], data: NamedTensor['data']): NamedTensor => ({
  name: 'out',
  type,
  shape,
  data,
});

describe('classify', () => {
  it("writes values as C++'s std::to_string does: six decimals for floats, integers in full", () => {
    const floats = tensor('FP64', [6], Float64Array.of(0.1, -0, 1e22, Number.NaN, -Infinity, 2.5e-7));
    expect(classify(floats, 6, false).data).toEqual([
      '10000000000000000000000.000000:2',
      '0.100000:0',
      '0.000000:5',
      '-0.000000:1',
      '-inf:4',
      'nan:3',
    ]);
    const f32 = tensor('FP32', [1, 2], Float32Array.of(0.1, 0.7));
    // The float32 value itself, widened to double, as Triton formats it.
    expect(classify(f32, 2, true).data).toEqual(['0.700000:1', '0.100000:0']);
    const u64 = tensor('UINT64', [3], BigUint64Array.of(2n ** 64n - 1n, 0n, 2n ** 63n));
    expect(classify(u64, 2, false).data).toEqual(['18446744073709551615:0', '9223372036854775808:2']);
    const i8 = tensor('INT8', [2, 3], Int8Array.of(-5, 3, 3, 7, -128, 127));
    expect(classify(i8, 2, true)).toEqual({
      name: 'out',
      type: 'BYTES',
      shape: [2, 2],
      data: ['3:1', '3:2', '127:2', '7:0'],
    });
  });

  it('classifies each batch entry over all its other dims, or the whole tensor without batching', () => {
    const data = Float32Array.of(1, 4, 2, 3, 8, 5, 6, 7);
    expect(classify(tensor('FP32', [2, 2, 2], data), 1, true).data).toEqual(['4.000000:1', '8.000000:0']);
    expect(classify(tensor('FP32', [2, 2, 2], data), 1, false)).toMatchObject({
      shape: [1],
      data: ['8.000000:4'],
    });
  });

  it('refuses types Triton cannot classify', () => {
    for (const type of ['FP16', 'BOOL'] as const) {
      expect(() => classify(tensor(type, [1], Uint16Array.of(1)), 1, false)).toThrow(
        `output "out": classification is not available for ${type} outputs`,
      );
    }
    expect(() => classify(tensor('BYTES', [1], ['a']), 1, false)).toThrow('not available for BYTES');
  });
});
