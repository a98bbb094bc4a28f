import { describe, expect, it } from 'vitest';
import { CsError } from '../../../src/errors/registry.js';
import { decodeBigdlResult } from '../../../src/protocol/bigdl-result.js';
import { parsePostProcessing, postProcess } from '../../../src/protocol/post-processing.js';
import type { Tensor } from '../../../src/protocol/tensor.js';

const fp32 = (shape: number[], values: number[]): Tensor => ({
  type: 'FP32',
  shape,
  data: new Float32Array(values),
});

describe('postProcess topN', () => {
  it('lists [index, value] of the n largest values of the first output, largest first', () => {
    const text = postProcess([fp32([1, 5], [0.1, 0.7, 0.05, 0.9, 0.2]), fp32([1], [99])], {
      kind: 'topN',
      n: 3,
    });
    expect(text).toBe('[[3,0.9],[1,0.7],[4,0.2]]');
    expect(JSON.parse(text)).toEqual([
      [3, 0.9],
      [1, 0.7],
      [4, 0.2],
    ]);
  });

  it('prints float32 values as the shortest decimal that reads back to the same float32', () => {
    const values = [0.1, 1 / 3, 123456.789, 1e-7, -2.5];
    const parsed = JSON.parse(postProcess([fp32([5], values)], { kind: 'topN', n: 5 })) as [number, number][];
    for (const [index, value] of parsed) expect(Math.fround(value)).toBe(Math.fround(values[index]!));
    expect(postProcess([fp32([1], [0.1])], { kind: 'topN', n: 1 })).toBe('[[0,0.1]]');
  });

  it('breaks ties by the lower index, also when the tie is at the cut', () => {
    const output = fp32([6], [1, 5, 5, 2, 5, 0]);
    expect(postProcess([output], { kind: 'topN', n: 2 })).toBe('[[1,5],[2,5]]');
    expect(postProcess([output], { kind: 'topN', n: 4 })).toBe('[[1,5],[2,5],[4,5],[3,2]]');
  });

  it('gives everything when n is larger than the output, with the same order for small and large n', () => {
    const values = Array.from({ length: 200 }, (_, i) => Math.sin(i) * 100);
    const expected = values
      .map((v, i) => [i, Math.fround(v)] as const)
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .map(([i]) => i);
    const order = (n: number): number[] =>
      (JSON.parse(postProcess([fp32([200], values)], { kind: 'topN', n })) as [number, number][]).map(
        ([i]) => i,
      );
    expect(order(10)).toEqual(expected.slice(0, 10));
    expect(order(100)).toEqual(expected.slice(0, 100));
    expect(order(1000)).toEqual(expected);
    expect(postProcess([fp32([2], [1, 2])], { kind: 'topN', n: 5 })).toBe('[[1,2],[0,1]]');
  });

  it('ranks NaN below every number and prints non-finite values as null', () => {
    const output = fp32([4], [NaN, -Infinity, 3, Infinity]);
    expect(postProcess([output], { kind: 'topN', n: 4 })).toBe('[[3,null],[2,3],[1,null],[0,null]]');
  });

  it('reads other numeric output types', () => {
    const ids: Tensor = { type: 'INT64', shape: [3], data: new BigInt64Array([5n, -1n, 7n]) };
    expect(postProcess([ids], { kind: 'topN', n: 2 })).toBe('[[2,7],[0,5]]');
    const doubles: Tensor = { type: 'FP64', shape: [2], data: new Float64Array([0.1, 0.2]) };
    expect(postProcess([doubles], { kind: 'topN', n: 1 })).toBe('[[1,0.2]]');
  });
});

describe('postProcess pickTopN', () => {
  const matrix = fp32([3, 2], [1, 2, 3, 4, 5, 6]);

  it('gives the first n rows of a 2-D output as JSON', () => {
    expect(postProcess([matrix], { kind: 'pickTopN', n: 2 })).toBe('[[1,2],[3,4]]');
    expect(postProcess([matrix], { kind: 'pickTopN', n: 10 })).toBe('[[1,2],[3,4],[5,6]]');
  });

  it('drops leading dims of size 1 and takes the first values of a 1-D output', () => {
    expect(postProcess([fp32([1, 1, 3, 2], [1, 2, 3, 4, 5, 6])], { kind: 'pickTopN', n: 1 })).toBe('[[1,2]]');
    expect(postProcess([fp32([4], [0.5, 1, 2, 3])], { kind: 'pickTopN', n: 2 })).toBe('[0.5,1]');
  });

  it('refuses outputs it cannot take rows of', () => {
    expect(() =>
      postProcess([fp32([2, 2, 2], new Array<number>(8).fill(0))], { kind: 'pickTopN', n: 1 }),
    ).toThrow(/needs a 1-D or 2-D output; output 0 has shape \[2,2,2\]/);
    expect(() => postProcess([fp32([], [1])], { kind: 'pickTopN', n: 1 })).toThrow(CsError);
  });
});

describe('postProcess errors and none', () => {
  it('refuses string outputs and missing outputs', () => {
    expect(() => postProcess([{ type: 'BYTES', shape: [1], data: ['a'] }], { kind: 'topN', n: 1 })).toThrow(
      expect.objectContaining({ code: 'CS_ERR_CONFIG_INVALID' }),
    );
    expect(() => postProcess([], { kind: 'topN', n: 1 })).toThrow(CsError);
  });

  it('gives BigDL’s Arrow result value without postProcessing', () => {
    expect(decodeBigdlResult(postProcess([matrixOf()], { kind: 'none' }))).toEqual([matrixOf()]);
  });
});

function matrixOf(): Tensor {
  return fp32([2, 2], [1, 2, 3, 4]);
}

describe('parsePostProcessing', () => {
  it('reads topN(n), pickTopN(n) and empty', () => {
    expect(parsePostProcessing('topN(5)')).toEqual({ kind: 'topN', n: 5 });
    expect(parsePostProcessing(' pickTopN( 2 ) ')).toEqual({ kind: 'pickTopN', n: 2 });
    expect(parsePostProcessing('TOPN(1)')).toEqual({ kind: 'topN', n: 1 });
    expect(parsePostProcessing('')).toEqual({ kind: 'none' });
    expect(parsePostProcessing('  ')).toEqual({ kind: 'none' });
    expect(parsePostProcessing('none')).toEqual({ kind: 'none' });
  });

  it('refuses anything else with the expected form', () => {
    for (const text of [
      'topN',
      'topN()',
      'topN(0)',
      'topN(-1)',
      'topN(1.5)',
      'top(5)',
      'topN(5) pickTopN(2)',
      'topN(99999999)',
    ]) {
      expect(() => parsePostProcessing(text)).toThrow(
        expect.objectContaining({ code: 'CS_ERR_CONFIG_INVALID' }),
      );
    }
    expect(() => parsePostProcessing('top5')).toThrow(/expected topN\(n\) or pickTopN\(n\).*got "top5"/);
  });
});
