import { describe, expect, it } from 'vitest';
import { parseInferBody } from '../../../src/frontend/infer-body.js';
import { decodeInferRequest, type InferRequest } from '../../../src/frontend/oip-request.js';
import {
  expectSameElements,
  JSON_SPACES,
  numberText,
  paddedBody,
  seededRandom,
} from '../../helpers/json-numbers.js';

type Outcome = { request: InferRequest } | { error: string };

function decode(parse: () => unknown): Outcome {
  try {
    return { request: decodeInferRequest(parse()) };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/** The body through parseInferBody and through JSON.parse must decode to the same, bit for bit. */
function expectSameAsJsonParse(body: string): Outcome {
  const text = paddedBody(body);
  const fast = decode(() => parseInferBody(Buffer.from(text)));
  const plain = decode(() => JSON.parse(text) as unknown);
  if ('error' in plain) {
    expect(fast).toEqual(plain);
    return fast;
  }
  expect('request' in fast, `fast path failed: ${'error' in fast ? fast.error : ''}`).toBe(true);
  if (!('request' in fast)) return fast;
  expect(fast.request.id).toBe(plain.request.id);
  expect(fast.request.outputs).toEqual(plain.request.outputs);
  expect(fast.request.inputs.length).toBe(plain.request.inputs.length);
  plain.request.inputs.forEach((want, i) => {
    const got = fast.request.inputs[i];
    expect(got?.name).toBe(want.name);
    expect(got?.type).toBe(want.type);
    expect(got?.shape).toEqual(want.shape);
    expect(got?.data.constructor).toBe(want.data.constructor);
    expectSameElements(got?.data, want.data, want.name);
  });
  return fast;
}

describe('parseInferBody', () => {
  it('reads an FP32 tensor into a Float32Array that decodes as-is, equal to JSON.parse + Float32Array', () => {
    const values = Array.from({ length: 3072 }, (_, i) => Math.fround(Math.sin(i) * 0.5));
    const text = JSON.stringify({
      inputs: [{ name: 'image', shape: [1, 3, 32, 32], datatype: 'FP32', data: values }],
    });
    const parsed = parseInferBody(Buffer.from(text)) as { inputs: { data: unknown }[] };
    expect(parsed.inputs[0]?.data).toBeInstanceOf(Float32Array);
    const outcome = expectSameAsJsonParse(text);
    expect('request' in outcome && outcome.request.inputs[0]?.data).toEqual(new Float32Array(values));
  });

  it('leaves a body under 4 KB to JSON.parse alone', () => {
    const text = '{"inputs":[{"name":"x","shape":[2],"datatype":"FP32","data":[0.5,2]}]}';
    expect(parseInferBody(Buffer.from(text))).toEqual(JSON.parse(text));
    const padded = parseInferBody(Buffer.from(paddedBody(text))) as { inputs: { data: unknown }[] };
    expect(padded.inputs[0]?.data).toEqual(Float32Array.of(0.5, 2));
  });

  it('gives what JSON.parse gives on 3000 random bodies of every numeric datatype, spacing and number form', () => {
    // INT64 and UINT64 keep digits JSON.parse loses: they have a test of their own below.
    const types = ['FP32', 'FP16', 'FP64', 'INT8', 'INT32', 'UINT8', 'BOOL', 'BYTES'];
    const next = seededRandom(20261128);
    let typed = 0;
    for (let round = 0; round < 3000; round++) {
      const space = (): string => JSON_SPACES[Math.floor(next() * JSON_SPACES.length)] ?? '';
      const inputs = Array.from({ length: 1 + Math.floor(next() * 3) }, (_, k) => {
        const datatype = types[Math.floor(next() * types.length)] ?? 'FP32';
        const count = Math.floor(next() * 12);
        const values = Array.from({ length: count }, () => numberText(next));
        const data = `[${space()}${values.join(`${space()},${space()}`)}${space()}]`;
        const fields = [
          `"name":${space()}"in${k}"`,
          `"shape":[${count}]`,
          `"datatype":${space()}"${datatype}"`,
        ];
        if (next() < 0.1) fields.push(`"data":${data}`);
        else fields.splice(Math.floor(next() * 4), 0, `"data":${space()}${data}`);
        return `{${space()}${fields.join(`,${space()}`)}${space()}}`;
      });
      const id = next() < 0.3 ? `"id":"r${round}",` : '';
      const body = `${space()}{${id}"inputs":${space()}[${inputs.join(',')}]${space()}}${space()}`;
      expectSameAsJsonParse(body);
      const parsed = parseInferBody(Buffer.from(paddedBody(body))) as { inputs: { data: unknown }[] };
      typed += parsed.inputs.filter((input) => ArrayBuffer.isView(input.data)).length;
    }
    // A good part of the inputs took the typed path (not BOOL, BYTES, or data before datatype).
    expect(typed).toBeGreaterThan(1000);
  });

  it('reads float32 rounding midpoints and long mantissas exactly as JSON.parse then Float32Array', () => {
    const cases: string[] = [
      '1.000000059604644775390625', // 1 + 2^-24, a float32 midpoint: ties to even, 1
      '1.0000000596046447753906250001', // just above it: rounds up
      '1.0000000596046447753906249999', // just below it: rounds down
      '0.1000000000000000055511151231257827',
      '3.4028235677973366e38', // just above FLT_MAX's midpoint: Infinity
      '3.4028235677973362e38',
      '1e-46',
      '-1.4e-45',
      '123456789012345678901234567890',
    ];
    // Every float32 rounding midpoint of a few binades, written out exactly (17 to 25 digits):
    // JSON.parse's double is the midpoint itself, so a double off by one unit rounds the wrong way.
    for (const base of [8, 128, 1024, 65536]) {
      for (let k = 0; k < 500; k++) {
        const f = Math.fround(base * (1 + k / 500));
        const mid = f + 2 ** (Math.floor(Math.log2(f)) - 24);
        cases.push(mid.toPrecision(25).replace(/0+$/, ''));
      }
    }
    const text = `{"inputs":[{"name":"x","shape":[${cases.length}],"datatype":"FP32","data":[${cases.join(',')}]}]}`;
    expectSameAsJsonParse(text);
  });

  it('leaves to JSON.parse what it cannot vouch for, with the same result or error', () => {
    const input = (fields: string): string => `{"inputs":[{"name":"x","shape":[2],${fields}}]}`;
    const bodies = [
      input('"data":[1,2],"datatype":"FP32"'), // datatype after data
      input('"datatype":"FP32","data":[[1],[2]]'), // nested
      input('"datatype":"FP32","data":[1,2],"data":[3,4]'), // repeated data
      input('"datatype":"FP32","data":[1,2],"data":null'),
      input('"datatype":"FP32","data":[1,2],"datatype":"INT8"'), // repeated datatype
      input('"datatype":"FP32","d\\u0061ta":[1,2]'), // escaped key
      input('"datatype":"FP\\u00332","data":[1,2]'), // escaped value
      input('"datatype":"BOOL","data":[true,false]'),
      input('"datatype":"BYTES","data":["a\\"],\\"data\\":[1]","b"]'),
      input('"datatype":"FP32","data":[1,"2"]'),
      input('"datatype":"FP32","data":[01,2]'),
      input('"datatype":"FP32","data":[1.,2]'),
      input('"datatype":"FP32","data":[.5,2]'),
      input('"datatype":"FP32","data":[+1,2]'),
      input('"datatype":"FP32","data":[1e,2]'),
      input('"datatype":"FP32","data":[NaN,2]'),
      input('"datatype":"FP32","data":[1,2,]'),
      input('"datatype":"FP32","data":[1 2]'),
      input('"datatype":"FP32","data":[1,2'),
      input('"datatype":"INT8","data":[1,300]'),
      input('"data":[1,2],"datatype":"INT64"'), // datatype after data: JSON.parse's numbers
      input('"datatype":"FP32","data":[1,2,3]'),
      input('"datatype":"FP32","data":[1]'),
      `{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]}],"\\u0069nputs":[{"name":"x","shape":[1],"datatype":"FP32","data":null}]}`,
      `{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]}],"inputs":[]}`,
      `{"id":"\\\\","inputs":[{"name":"é\\"\\\\","shape":[1],"datatype":"FP32","data":[1]}]}`,
      `{"outputs":[{"name":"y"}],"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]},{"name":"z","shape":[1],"datatype":"FP64","data":[0.1]}]}`,
      `[{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]}]}]`,
      `{"parameters":{"inputs":[{"datatype":"FP32","data":[1]}]},"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]}]}`,
      `{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]}]`,
      `{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]}]} trailing`,
      `{"inputs":[{"name":"x\u2028","shape":[1],"datatype":"FP32","data":[1]}]}`,
      `{"inputs":"[{\\"datatype\\":\\"FP32\\",\\"data\\":[1]}]"}`,
    ];
    for (const body of bodies) expectSameAsJsonParse(body);
  });

  describe('INT64 and UINT64', () => {
    const body = (datatype: string, data: string, count: number): Buffer =>
      Buffer.from(`{"inputs":[{"name":"ids","shape":[${count}],"datatype":"${datatype}","data":${data}}]}`);
    const decoded = (bytes: Buffer): Outcome => decode(() => parseInferBody(bytes));

    it('reads integers beyond 2^53 exactly, in small bodies and large ones', () => {
      const small = body('INT64', '[9007199254740993,-9007199254740993,1]', 3);
      expect(small.length).toBeLessThan(4096);
      const outcome = decoded(small);
      expect('request' in outcome && outcome.request.inputs[0]?.data).toEqual(
        BigInt64Array.of(9007199254740993n, -9007199254740993n, 1n),
      );
      const large = Array.from({ length: 600 }, (_, i) => 2n ** 62n + BigInt(i));
      const big = body('UINT64', `[${large.join(',')}]`, large.length);
      expect(big.length).toBeGreaterThan(4096);
      const bigOutcome = decoded(big);
      expect('request' in bigOutcome && bigOutcome.request.inputs[0]?.data).toEqual(
        BigUint64Array.from(large),
      );
    });

    it('leaves a small body of short integers to JSON.parse alone, and still reads a long one exactly', () => {
      const ids =
        '{"inputs":[{"name":"ids","shape":[1,3],"datatype":"INT64","data":[4711,815,999999999999999]}]}';
      expect(parseInferBody(Buffer.from(ids))).toEqual(JSON.parse(ids));
      const outcome = decoded(Buffer.from(ids));
      expect('request' in outcome && outcome.request.inputs[0]?.data).toEqual(
        BigInt64Array.of(4711n, 815n, 999999999999999n),
      );
      const long = body('INT64', '[4711,1234567890123456789]', 2);
      expect((parseInferBody(long) as { inputs: { data: unknown }[] }).inputs[0]?.data).not.toEqual([
        4711,
        Number('1234567890123456789'),
      ]);
      const exact = decoded(long);
      expect('request' in exact && exact.request.inputs[0]?.data).toEqual(
        BigInt64Array.of(4711n, 1234567890123456789n),
      );
    });

    it('takes ±2^53 and the int64/uint64 bounds, and names the input beyond them', () => {
      const ok = decoded(
        body('INT64', '[9007199254740992,-9007199254740992,9223372036854775807,-9223372036854775808]', 4),
      );
      expect('request' in ok && ok.request.inputs[0]?.data).toEqual(
        BigInt64Array.of(2n ** 53n, -(2n ** 53n), 2n ** 63n - 1n, -(2n ** 63n)),
      );
      const max = decoded(body('UINT64', '[18446744073709551615]', 1));
      expect('request' in max && max.request.inputs[0]?.data).toEqual(BigUint64Array.of(2n ** 64n - 1n));
      expect(decoded(body('INT64', '[1,9223372036854775808]', 2))).toEqual({
        error: 'input "ids": data[1] = 9223372036854775808 is out of range for INT64',
      });
      expect(decoded(body('INT64', '[-9223372036854775809]', 1))).toEqual({
        error: 'input "ids": data[0] = -9223372036854775809 is out of range for INT64',
      });
      expect(decoded(body('UINT64', '[18446744073709551616]', 1))).toEqual({
        error: 'input "ids": data[0] = 18446744073709551616 is out of range for UINT64',
      });
      expect(decoded(body('UINT64', '[-1]', 1))).toEqual({
        error: 'input "ids": data[0] = -1 is out of range for UINT64',
      });
      expect(decoded(body('INT64', '[1.5]', 1))).toEqual({
        error: 'input "ids": data[0] = 1.5 is not an integer (INT64)',
      });
    });

    it('reads nested arrays in row-major order', () => {
      const outcome = decoded(
        Buffer.from(
          '{"inputs":[{"name":"ids","shape":[2,2],"datatype":"INT64","data":[[9007199254740993, 2],[3,-4]]}]}',
        ),
      );
      expect('request' in outcome && outcome.request.inputs[0]?.data).toEqual(
        BigInt64Array.of(9007199254740993n, 2n, 3n, -4n),
      );
    });

    it('decodes 2000 random bodies as JSON.parse does once every integer is quoted as digits', () => {
      const next = seededRandom(20261206);
      const integer = (): string => {
        const pick = next();
        const digits = 1 + Math.floor(next() * 20);
        const text = Array.from({ length: digits }, () => Math.floor(next() * 10))
          .join('')
          .replace(/^0+(?=\d)/, '');
        if (pick < 0.6) return `${next() < 0.3 ? '-' : ''}${text}`;
        if (pick < 0.7) return next() < 0.5 ? '9007199254740993' : '-9007199254740993';
        // The oracle's strings stop at 20 digits; longer integers are out of range either way.
        const other = numberText(next);
        return /^-?\d{21,}$/.test(other) ? '0' : other;
      };
      for (let round = 0; round < 2000; round++) {
        const datatype = next() < 0.5 ? 'INT64' : 'UINT64';
        const count = Math.floor(next() * 8);
        const values = Array.from({ length: count }, integer);
        const space = (): string => JSON_SPACES[Math.floor(next() * JSON_SPACES.length)] ?? '';
        const data = `[${space()}${values.join(`${space()},${space()}`)}${space()}]`;
        const quoted = `[${values.map((v) => (/^-?\d{1,20}$/.test(v) ? `"${v}"` : v)).join(',')}]`;
        const fast = decoded(body(datatype, data, count));
        const oracle = decode(() => JSON.parse(body(datatype, quoted, count).toString()) as unknown);
        expect(fast, `${datatype} ${data}`).toEqual(oracle);
      }
    });

    it('leaves what is not a run of numbers to JSON.parse', () => {
      for (const data of ['[1,2,]', '[1 2]', '[1,"2"]', '[01,2]', '[1,[2]', '[1,true]', '[-,1]']) {
        const bytes = body('INT64', data, 2);
        expect(decoded(bytes)).toEqual(decode(() => JSON.parse(bytes.toString()) as unknown));
      }
    });
  });
});
