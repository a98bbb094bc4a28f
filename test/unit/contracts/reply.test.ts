import { describe, expect, it } from 'vitest';
import { CsError } from '../../../src/errors/registry.js';
import {
  decodeErrorPayload,
  decodeReply,
  encodeErrorPayload,
  encodeReply,
} from '../../../src/contracts/reply.js';
import type { ReplyKind } from '../../../src/contracts/reply.js';

describe('reply messages', () => {
  it.each<[ReplyKind]>([['tensors'], ['text'], ['error'], ['bigdl']])('round-trips kind %s', (kind) => {
    const payload = Buffer.from([0, 1, 2, 255]);
    const decoded = decodeReply(encodeReply('job:req:42', kind, payload));
    expect(decoded.kind).toBe(kind);
    expect(decoded.uri).toBe('job:req:42');
    expect(Buffer.compare(decoded.payload, payload)).toBe(0);
  });

  it('lays out kind code, uri length, uri and payload as documented', () => {
    const message = encodeReply('é', 'text', Buffer.from('hi'));
    expect(Array.from(message)).toEqual([2, 2, 0, 0, 0, 0xc3, 0xa9, 0x68, 0x69]);
  });

  it('keeps unicode uris, empty uris and empty payloads', () => {
    for (const uri of ['', 'ünï:cödé/🙂', 'a'.repeat(10000)]) {
      const decoded = decodeReply(encodeReply(uri, 'bigdl', new Uint8Array(0)));
      expect(decoded.uri).toBe(uri);
      expect(decoded.payload.length).toBe(0);
    }
  });

  it('refuses garbage with the reason', () => {
    const refuse = (message: Buffer, reason: RegExp): void => {
      expect(() => decodeReply(message)).toThrow(expect.objectContaining({ code: 'CS_ERR_INPUT_DECODE' }));
      expect(() => decodeReply(message)).toThrow(reason);
    };
    refuse(Buffer.alloc(0), /shorter than its 5-byte header/);
    refuse(Buffer.from([1, 0, 0]), /shorter than its 5-byte header/);
    refuse(Buffer.from([9, 0, 0, 0, 0]), /unknown kind code 9/);
    refuse(Buffer.from([0, 0, 0, 0, 0]), /unknown kind code 0/);
    refuse(Buffer.from([1, 10, 0, 0, 0, 65]), /uri claims 10 bytes, 1 follow/);
    refuse(Buffer.from([1, 1, 0, 0, 0, 0xff]), /not valid UTF-8/);
  });
});

describe('error payloads', () => {
  it('round-trips code and message as JSON', () => {
    const payload = encodeErrorPayload('CS_ERR_INPUT_MISMATCH', 'input "x": expected FP32, got "BYTES"');
    expect(JSON.parse(payload.toString('utf8'))).toEqual({
      code: 'CS_ERR_INPUT_MISMATCH',
      message: 'input "x": expected FP32, got "BYTES"',
    });
    expect(decodeErrorPayload(payload)).toEqual({
      code: 'CS_ERR_INPUT_MISMATCH',
      message: 'input "x": expected FP32, got "BYTES"',
    });
  });

  it('maps an unknown code to CS_ERR_INTERNAL and keeps it in the message', () => {
    const payload = Buffer.from(JSON.stringify({ code: 'CS_ERR_FROM_THE_FUTURE', message: 'something new' }));
    expect(decodeErrorPayload(payload)).toEqual({
      code: 'CS_ERR_INTERNAL',
      message: 'something new (code "CS_ERR_FROM_THE_FUTURE")',
    });
    expect(decodeErrorPayload(Buffer.from('{"message":"m"}')).code).toBe('CS_ERR_INTERNAL');
  });

  it('refuses payloads that are not an error object', () => {
    for (const text of [
      '',
      'not json',
      '[1]',
      'null',
      '{"code":"CS_ERR_INTERNAL"}',
      '{"code":1,"message":2}',
    ]) {
      expect(() => decodeErrorPayload(Buffer.from(text))).toThrow(CsError);
    }
  });
});
