import { describe, expect, it } from 'vitest';
import { editDistance } from '../../../src/config/collect-keys.js';
import {
  bytesIn,
  describeValue,
  formatSize,
  parsePostProcessingValue,
  sizeIn,
  sizeTextIn,
} from '../../../src/config/value-parsers.js';
import { parsePostProcessing } from '../../../src/protocol/post-processing.js';

describe('parsePostProcessingValue', () => {
  it.each([
    'topN(5)',
    'TOPN ( 5 )',
    'pickTopN(1)',
    'picktopn(1000000)',
    'none',
    'NONE',
    'topN(0)',
    'topN(1000001)',
    'top(5)',
    'topN(-1)',
    'topN(2.5)',
    'topN(5) extra',
  ])('agrees with the protocol parser on %j', (text) => {
    let expected: unknown;
    try {
      expected = { ok: true, value: parsePostProcessing(text) };
    } catch {
      expected = { ok: false };
    }
    const parsed = parsePostProcessingValue(text);
    expect(parsed.ok ? { ok: true, value: parsed.value } : { ok: false }).toEqual(expected);
  });
});

describe('sizeIn', () => {
  const size = sizeIn(1, 2 ** 40);

  it.each([
    ['8g', '8g', 8e9],
    ['8GB', '8gb', 8 * 1024 ** 3],
    ['512 mb', '512mb', 512 * 1024 ** 2],
    ['100k', '100k', 100_000],
    ['100kb', '100kb', 102_400],
    [1073741824, '1073741824', 1073741824],
    ['64b', '64b', 64],
  ])('reads %j as Redis does', (given, text, bytes) => {
    expect(size(given)).toEqual({ ok: true, value: { text, bytes } });
  });

  it.each(['8t', '8 g b', '-1g', '1.5g', 'g', '', true, 0])('refuses %j', (given) => {
    expect(size(given).ok).toBe(false);
  });
});

describe('bytesIn, sizeTextIn and formatSize', () => {
  it('give the bytes, or the text as Redis takes it, and refuse what sizeIn refuses', () => {
    expect(bytesIn(1, 2 ** 40)('512 MB')).toEqual({ ok: true, value: 512 * 1024 ** 2 });
    expect(sizeTextIn(1, 2 ** 40)('512 MB')).toEqual({ ok: true, value: '512mb' });
    expect(bytesIn(1024, 2048)('4kb')).toEqual(sizeIn(1024, 2048)('4kb'));
  });

  it.each([
    [64 * 1024 ** 2, '64mb'],
    [16 * 1024 ** 2, '16mb'],
    [2 * 1024 ** 3, '2gb'],
    [1536, '1536'],
    [3 * 1024, '3kb'],
  ])('writes %d bytes as %s, which reads back the same', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
    expect(bytesIn(1, 2 ** 40)(text)).toEqual({ ok: true, value: bytes });
  });
});

describe('describeValue', () => {
  it('shows what was received without secrets and without flooding the message', () => {
    expect(describeValue('x'.repeat(200))).toHaveLength(82);
    expect(describeValue('redis://user:pw@host:1')).toBe('"redis://***@host:1"');
    expect(describeValue('pw', { secret: true })).toBe('(hidden)');
    expect(describeValue(null)).toBe('nothing');
    expect(describeValue(false)).toBe('false');
  });
});

describe('editDistance', () => {
  it('counts a swap of neighbours as one edit', () => {
    expect(editDistance('jobnmae', 'jobname')).toBe(1);
    expect(editDistance('modelpth', 'modelpath')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('port', 'port')).toBe(0);
  });
});
