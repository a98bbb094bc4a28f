import { describe, expect, it } from 'vitest';
import { batchesOfRequests, requestCount, type StreamEntry } from '../../../src/worker/stream-entry.js';

function entry(id: string, count?: number): StreamEntry {
  const fields = new Map<string, Buffer>([['uri', Buffer.from(id)]]);
  if (count !== undefined) fields.set('count', Buffer.from(String(count)));
  return { id, fields, deliveries: 1 };
}

describe('a read of several entries', () => {
  it('counts a pack as its requests and any other entry as one', () => {
    expect([entry('a'), entry('b', 12), entry('c', 0), entry('d', Number.NaN)].map(requestCount)).toEqual([
      1, 12, 1, 1,
    ]);
  });

  it('is run as batches of at most maxBatchSize requests, in order, never splitting a pack', () => {
    const read = [entry('1', 20), entry('2', 10), entry('3'), entry('4', 40), entry('5', 5), entry('6')];
    expect(batchesOfRequests(read, 32).map((batch) => batch.map((e) => e.id))).toEqual([
      ['1', '2', '3'],
      ['4'],
      ['5', '6'],
    ]);
    expect(batchesOfRequests([], 32)).toEqual([]);
    expect(batchesOfRequests([entry('a'), entry('b')], 1).map((b) => b.map((e) => e.id))).toEqual([
      ['a'],
      ['b'],
    ]);
  });
});
