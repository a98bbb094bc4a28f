import { describe, expect, it } from 'vitest';
import {
  decodePack,
  decodePackReply,
  encodePackedRequest,
  encodePackReply,
} from '../../../src/contracts/request-pack.js';
import { SERDE } from '../../../src/contracts/stream-entry.js';

describe('pack entries', () => {
  it('carry each request with its uri, form, deadline and data, in order', () => {
    const data = Buffer.concat([
      encodePackedRequest('first', SERDE.tensor, 1_700_000_000_123, Buffer.from([1, 2, 3])),
      encodePackedRequest('ünï', undefined, 5, 'QUJD'),
      encodePackedRequest('third', SERDE.bigdlJson, 7.5, '{"instances":[]}'),
    ]);
    const requests = decodePack(data);
    expect(requests.map((r) => [r.uri, r.serde, r.deadline, r.data.toString('latin1')])).toEqual([
      ['first', 'tensor', 1_700_000_000_123, '\u0001\u0002\u0003'],
      ['ünï', undefined, 5, 'QUJD'],
      ['third', 'stream', 7.5, '{"instances":[]}'],
    ]);
  });

  it('refuse a cut pack, an unknown form and a bad uri with coded errors', () => {
    const whole = encodePackedRequest('u', SERDE.tensor, 1, Buffer.from('abc'));
    for (let cut = 1; cut < whole.length; cut++) {
      expect(() => decodePack(whole.subarray(0, cut))).toThrow(
        expect.objectContaining({ code: 'CS_ERR_INPUT_DECODE' }),
      );
    }
    const unknown = Buffer.from(whole);
    unknown[0] = 9;
    expect(() => decodePack(unknown)).toThrow(/unknown form code 9/);
    expect(() => encodePackedRequest('', SERDE.tensor, 1, 'x')).toThrow(
      expect.objectContaining({ code: 'CS_ERR_INPUT_DECODE' }),
    );
    expect(() => encodePackedRequest('u'.repeat(4097), SERDE.tensor, 1, 'x')).toThrow(/1 to 4096 bytes/);
  });

  it('are answered by one reply holding every request reply', () => {
    const messages = [Buffer.from('one'), Buffer.alloc(0), Buffer.from('three')];
    expect(decodePackReply(encodePackReply(messages)).map((m) => m.toString())).toEqual(['one', '', 'three']);
    expect(() => decodePackReply(encodePackReply(messages).subarray(0, 9))).toThrow(/runs past the end/);
  });
});
