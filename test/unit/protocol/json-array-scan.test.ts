import { describe, expect, it } from 'vitest';
import { decodeInstances, NestedNumbers, parseInstancesBody } from '../../../src/protocol/json-instances.js';
import { readNestedRun } from '../../../src/protocol/json-number-run.js';
import type { NamedTensor } from '../../../src/protocol/tensor.js';
import {
  expectSameElements,
  JSON_SPACES,
  numberText,
  paddedBody,
  seededRandom,
} from '../../helpers/json-numbers.js';

type Outcome = { instances: NamedTensor[][] } | { error: string };

function decode(body: string | Buffer): Outcome {
  try {
    return { instances: decodeInstances(body) };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/** The body as bytes (read in place) and as text (JSON.parse) must decode to the same, bit for bit. */
function expectSameAsJsonParse(body: string): Outcome {
  const text = paddedBody(body);
  const fast = decode(Buffer.from(text));
  const plain = decode(text);
  if ('error' in plain) {
    expect(fast).toEqual(plain);
    return fast;
  }
  expect('instances' in fast, `bytes failed: ${'error' in fast ? fast.error : ''}`).toBe(true);
  if (!('instances' in fast)) return fast;
  expect(fast.instances.length).toBe(plain.instances.length);
  plain.instances.forEach((tensors, i) => {
    const got = fast.instances[i] ?? [];
    expect(got.map((t) => [t.name, t.type, t.shape])).toEqual(tensors.map((t) => [t.name, t.type, t.shape]));
    tensors.forEach((want, k) => expectSameElements(got[k]?.data, want.data, want.name));
  });
  return fast;
}

describe('BigDL instances read from bytes', () => {
  it('reads a [3,32,32] image as nested arrays in place, equal to JSON.parse', () => {
    const values = Array.from({ length: 3 * 32 * 32 }, (_, i) => Math.fround(Math.sin(i) * 0.5));
    const rows = (offset: number, size: number): number[] => values.slice(offset, offset + size);
    const image = [0, 1, 2].map((c) => Array.from({ length: 32 }, (_, y) => rows(c * 1024 + y * 32, 32)));
    const text = JSON.stringify({ instances: [{ image }, { image }] });
    const parsed = parseInstancesBody(Buffer.from(text)) as { instances: { image: unknown }[] };
    expect(parsed.instances[1]?.image).toBeInstanceOf(NestedNumbers);
    const outcome = expectSameAsJsonParse(text);
    expect('instances' in outcome && outcome.instances[1]?.[0]?.shape).toEqual([3, 32, 32]);
    expect('instances' in outcome && outcome.instances[1]?.[0]?.data).toEqual(new Float32Array(values));
  });

  it('finds the shape of rectangular nesting and declines the rest', () => {
    const read = (text: string): unknown => {
      const run = readNestedRun(Buffer.from(text), 0);
      return run === undefined ? undefined : { shape: run.shape, data: Array.from(run.data), end: run.end };
    };
    expect(read('[1, 2 ,3]')).toEqual({ shape: [3], data: [1, 2, 3], end: 8 });
    expect(read('[ [1,2] , [3,4] , [5,6] ],')).toEqual({ shape: [3, 2], data: [1, 2, 3, 4, 5, 6], end: 24 });
    expect(read('[[[1],[2]],[[3],[4]]]')).toEqual({ shape: [2, 2, 1], data: [1, 2, 3, 4], end: 20 });
    for (const declined of [
      '[]',
      '[[]]',
      '[[1,2],[3]]',
      '[[1],[2,3]]',
      '[[1],2]',
      '[1,[2]]',
      '[[1],[[2]]]',
      '[[1],[2]',
      '[1,"2"]',
      '[[1,2],[3,4],]',
    ]) {
      expect(read(declined), declined).toBeUndefined();
    }
    expect(read(`${'['.repeat(32)}1${']'.repeat(32)}`)).toMatchObject({
      shape: new Array<number>(32).fill(1),
    });
    expect(read(`${'['.repeat(33)}1${']'.repeat(33)}`)).toBeUndefined();
  });

  it('gives what JSON.parse gives on 2000 random bodies: nesting, ragged arrays, scalars, strings, sparse', () => {
    const next = seededRandom(1128);
    let typed = 0; // values read in place
    for (let round = 0; round < 2000; round++) {
      const space = (): string => JSON_SPACES[Math.floor(next() * JSON_SPACES.length)] ?? '';
      const nested = (dims: number[]): string => {
        const [first, ...rest] = dims;
        const length = (first ?? 0) + (next() < 0.03 ? 1 : 0); // now and then ragged
        const items = Array.from({ length }, () => (rest.length === 0 ? numberText(next) : nested(rest)));
        return `[${space()}${items.join(`${space()},${space()}`)}${space()}]`;
      };
      const value = (): string => {
        const pick = next();
        if (pick < 0.7)
          return nested(Array.from({ length: 1 + Math.floor(next() * 3) }, () => Math.floor(next() * 4)));
        if (pick < 0.8) return numberText(next);
        if (pick < 0.85) return '"aGVsbG8=|[1,2]"';
        if (pick < 0.9) return `{"shape":[2,2],"data":[${numberText(next)}],"indices":[[1],[0]]}`;
        if (pick < 0.95) return `[1, "2"]`;
        return next() < 0.5 ? 'null' : '[[1,2],[3]]';
      };
      const instances = Array.from({ length: 1 + Math.floor(next() * 3) }, () => {
        const fields = Array.from(
          { length: 1 + Math.floor(next() * 3) },
          (_, k) => `"in${k}":${space()}${value()}`,
        );
        return `{${space()}${fields.join(`,${space()}`)}${space()}}`;
      });
      const text = `${space()}{"instances":${space()}[${instances.join(',')}]${space()}}`;
      expectSameAsJsonParse(text);
      const parsed = parseInstancesBody(Buffer.from(paddedBody(text))) as {
        instances: Record<string, unknown>[];
      };
      typed += parsed.instances
        .flatMap((i) => Object.values(i))
        .filter((v) => v instanceof NestedNumbers).length;
    }
    expect(typed).toBeGreaterThan(500);
  });

  it('leaves to JSON.parse what it cannot vouch for, with the same result or error', () => {
    const bodies = [
      '{"instances":[{"x":[1,2],"x":[3,4]}]}',
      '{"instances":[{"x":[1,2],"x":null}]}',
      '{"instances":[{"\\u0078":[1,2]}]}',
      '{"instances":[{"x":[1,2]}],"\\u0069nstances":[{"x":null}]}',
      '{"instances":[{"x":[1,2]}],"instances":[{"x":null}]}',
      '{"instances":[{"x":[[1,2],[3,4]]}]',
      '{"instances":[{"x":[01,2]}]}',
      '{"instances":[{"x":[1e999,-1e999]}]}',
      '{"instances":[{"x":[]}]}',
      '{"instances":[{"x":[[],[]]}]}',
      '{"instnces":[{"x":[1,2]}]}',
      '{"instances":[{"x":"[1,2]\\"","y":[3]}]}',
      '{"instances":{"x":[1,2]}}',
      '[{"instances":[{"x":[1,2]}]}]',
      `{"instances":[{"x":${'['.repeat(33)}1${']'.repeat(33)}}]}`,
    ];
    for (const body of bodies) expectSameAsJsonParse(body);
  });
});
