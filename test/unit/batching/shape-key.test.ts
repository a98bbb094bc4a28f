import { describe, expect, it } from 'vitest';
import { shapeKey } from '../../../src/batching/shape-key.js';
import { CsError } from '../../../src/errors/registry.js';
import type { DataType, Tensor } from '../../../src/protocol/tensor.js';

function t(type: DataType, shape: number[]): Tensor {
  return { type, shape, data: type === 'BYTES' ? [] : new Float32Array(0) };
}

describe('shapeKey', () => {
  it('names each input by datatype and the dims after the batch dim', () => {
    expect(shapeKey([t('FP32', [5, 4]), t('INT64', [5, 2, 3])])).toBe('FP32:4|INT64:2x3');
  });

  it('ignores the batch dim, so records of different row counts share a key', () => {
    expect(shapeKey([t('FP32', [1, 4])])).toBe(shapeKey([t('FP32', [7, 4])]));
  });

  it('tells apart datatype, inner dims, rank, input order and input count', () => {
    const keys = [
      shapeKey([t('FP32', [1, 4])]),
      shapeKey([t('FP64', [1, 4])]),
      shapeKey([t('FP32', [1, 5])]),
      shapeKey([t('FP32', [1, 2, 2])]),
      shapeKey([t('FP32', [1, 4, 1])]),
      shapeKey([t('FP32', [1])]),
      shapeKey([t('FP32', [1, 0])]),
      shapeKey([t('FP32', [1, 4]), t('INT32', [1, 2])]),
      shapeKey([t('INT32', [1, 2]), t('FP32', [1, 4])]),
      shapeKey([t('FP32', [1, 42])]),
      shapeKey([t('FP32', [1, 4, 2])]),
    ];
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('keys a rank-1 input and no inputs at all', () => {
    expect(shapeKey([t('BYTES', [3])])).toBe('BYTES:');
    expect(shapeKey([])).toBe('');
  });

  it('refuses a scalar input', () => {
    expect(() => shapeKey([t('FP32', [2, 4]), t('FP32', [])])).toThrow(CsError);
    expect(() => shapeKey([t('FP32', [])])).toThrow(/input 0 is a scalar/);
  });
});
