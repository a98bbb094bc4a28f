/**
 * The message a worker publishes on an entry's `reply` channel, also the form in which
 * results of our own entries are stored: u8 kind code | u32 LE uri byte length | uri utf8 | payload.
 * Payloads by kind: `tensors` a tensor frame, `text` utf8 (postProcessing output), `error`
 * the JSON of encodeErrorPayload, `bigdl` the BigDL result value (base64 Arrow) as utf8,
 * `pack` the replies to every request of a pack entry (src/contracts/request-pack.ts), its uri
 * the pack's.
 */
import { CsError, isErrorCode } from '../errors/registry.js';
import type { ErrorCode } from '../errors/registry.js';

export type ReplyKind = 'tensors' | 'text' | 'error' | 'bigdl' | 'pack';

const CODE_OF: Readonly<Record<ReplyKind, number>> = { tensors: 1, text: 2, error: 3, bigdl: 4, pack: 5 };
const KIND_OF: readonly (ReplyKind | undefined)[] = [undefined, 'tensors', 'text', 'error', 'bigdl', 'pack'];
const UTF8 = new TextDecoder('utf-8', { fatal: true });

export function encodeReply(uri: string, kind: ReplyKind, payload: Uint8Array): Buffer {
  const uriBytes = Buffer.from(uri, 'utf8');
  const message = Buffer.allocUnsafe(5 + uriBytes.length + payload.length);
  message[0] = CODE_OF[kind];
  message.writeUInt32LE(uriBytes.length, 1);
  uriBytes.copy(message, 5);
  message.set(payload, 5 + uriBytes.length);
  return message;
}

/** The parts of a reply message; `payload` is a view over `message`. */
export function decodeReply(message: Buffer): { uri: string; kind: ReplyKind; payload: Buffer } {
  if (message.length < 5) {
    throw new CsError(
      'CS_ERR_INPUT_DECODE',
      `reply message: ${message.length} bytes, shorter than its 5-byte header`,
    );
  }
  const kind = KIND_OF[message[0]!];
  if (kind === undefined)
    throw new CsError('CS_ERR_INPUT_DECODE', `reply message: unknown kind code ${message[0]!}`);
  const uriLength = message.readUInt32LE(1);
  if (5 + uriLength > message.length) {
    throw new CsError(
      'CS_ERR_INPUT_DECODE',
      `reply message: uri claims ${uriLength} bytes, ${message.length - 5} follow the header`,
    );
  }
  let uri: string;
  try {
    uri = UTF8.decode(message.subarray(5, 5 + uriLength));
  } catch {
    throw new CsError('CS_ERR_INPUT_DECODE', 'reply message: uri is not valid UTF-8');
  }
  return { uri, kind, payload: message.subarray(5 + uriLength) };
}

export function encodeErrorPayload(code: ErrorCode, message: string): Buffer {
  return Buffer.from(JSON.stringify({ code, message }), 'utf8');
}

/**
 * The code and message of an error payload. A code this version does not know (a newer
 * worker) becomes CS_ERR_INTERNAL, with the original code kept in the message.
 */
export function decodeErrorPayload(payload: Uint8Array): { code: ErrorCode; message: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
  } catch {
    throw new CsError('CS_ERR_INPUT_DECODE', 'error payload is not JSON: expected {"code","message"}');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CsError(
      'CS_ERR_INPUT_DECODE',
      'error payload is not a JSON object: expected {"code","message"}',
    );
  }
  const { code, message } = parsed as { code?: unknown; message?: unknown };
  if (typeof message !== 'string') {
    throw new CsError('CS_ERR_INPUT_DECODE', 'error payload has no string "message"');
  }
  if (typeof code === 'string' && isErrorCode(code)) return { code, message };
  return { code: 'CS_ERR_INTERNAL', message: `${message} (code ${JSON.stringify(code) ?? 'missing'})` };
}
