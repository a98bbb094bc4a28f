import { describe, expect, it } from 'vitest';
import { formatFloat32, tensorDataJson } from '../../../src/frontend/tensor-json.js';

describe('formatFloat32', () => {
  it('writes the shortest text that reads back as the same float32', () => {
    for (const v of [0.1, -2.5, 1e-7, 3.4028234663852886e38, 123456.789, 1 / 3, -0.7071067690849304]) {
      const f = Math.fround(v);
      const text = formatFloat32(f);
      expect(Math.fround(Number(text))).toBe(f);
      expect(
        text.replace(/^-/, '').replace('.', '').replace(/e.*$/, '').replace(/^0+/, '').length,
      ).toBeLessThanOrEqual(9);
    }
    expect(formatFloat32(Math.fround(0.1))).toBe('0.1');
    expect(formatFloat32(2)).toBe('2');
    expect(formatFloat32(Number.NaN)).toBe('null');
    expect(formatFloat32(Number.POSITIVE_INFINITY)).toBe('null');
  });
});

describe('tensorDataJson', () => {
  it('writes each datatype in its own form', () => {
    expect(tensorDataJson({ type: 'FP32', shape: [2], data: new Float32Array([0.1, 2]) })).toBe('[0.1,2]');
    expect(tensorDataJson({ type: 'FP64', shape: [2], data: new Float64Array([0.1, Number.NaN]) })).toBe(
      '[0.1,null]',
    );
    expect(tensorDataJson({ type: 'BOOL', shape: [3], data: new Uint8Array([1, 0, 1]) })).toBe(
      '[true,false,true]',
    );
    expect(tensorDataJson({ type: 'INT8', shape: [2], data: new Int8Array([-128, 127]) })).toBe('[-128,127]');
    expect(tensorDataJson({ type: 'UINT32', shape: [1], data: new Uint32Array([4294967295]) })).toBe(
      '[4294967295]',
    );
    expect(
      tensorDataJson({ type: 'INT64', shape: [2], data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]) }),
    ).toBe('[-9223372036854775808,9223372036854775807]');
    expect(tensorDataJson({ type: 'UINT64', shape: [1], data: new BigUint64Array([2n ** 64n - 1n]) })).toBe(
      '[18446744073709551615]',
    );
    // 0x3c00 = 1.0, 0xc000 = -2.0, 0x3555 ≈ 0.333 in half precision.
    expect(tensorDataJson({ type: 'FP16', shape: [2], data: new Uint16Array([0x3c00, 0xc000]) })).toBe(
      '[1,-2]',
    );
    expect(tensorDataJson({ type: 'BYTES', shape: [2], data: ['a"b', 'é'] })).toBe('["a\\"b","é"]');
  });
});
