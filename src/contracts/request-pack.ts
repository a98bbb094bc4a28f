/**
 * The `data` of a pack entry (serde `pack`, src/contracts/stream-entry.ts): several requests
 * one after another, each `u8 form | u16 LE uri length | uri | f64 LE deadline | u32 LE data
 * length | data`; and the payload of the one reply that answers them all: each inner reply
 * message (src/contracts/reply.ts) as `u32 LE length | message`.
 */
import { MAX_URI_BYTES, SERDE } from './stream-entry.js';
import { CsError } from '../errors/registry.js';
import { decodeReply } from './reply.js';

/** How one request of a pack is encoded: the `serde` it would carry as an entry of its own. */
export type PackedSerde = undefined | typeof SERDE.bigdlJson | typeof SERDE.tensor;

export interface PackedRequest {
  readonly uri: string;
  readonly serde: PackedSerde;
  /** Epoch ms after which the request is answered CS_ERR_DEADLINE_EXCEEDED instead of run. */
  readonly deadline: number;
  /** A view over the pack's data. */
  readonly data: Buffer;
}

const FORM_CODES = new Map<PackedSerde, number>([
  [undefined, 0],
  [SERDE.bigdlJson, 1],
  [SERDE.tensor, 2],
]);
const FORMS: readonly PackedSerde[] = [undefined, SERDE.bigdlJson, SERDE.tensor];
const HEADER_BYTES = 1 + 2;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Whether an entry's serde can travel in a pack. */
export function packable(serde: string | undefined): serde is PackedSerde {
  return FORM_CODES.has(serde as PackedSerde);
}

/** One request as its part of a pack's data. */
export function encodePackedRequest(
  uri: string,
  serde: PackedSerde,
  deadline: number,
  data: Buffer | string,
): Buffer {
  const uriBytes = Buffer.from(uri, 'utf8');
  if (uriBytes.length === 0 || uriBytes.length > MAX_URI_BYTES) {
    throw new CsError(
      'CS_ERR_INPUT_DECODE',
      `uri must be 1 to ${MAX_URI_BYTES} bytes, got ${uriBytes.length}`,
    );
  }
  const body = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const out = Buffer.allocUnsafe(HEADER_BYTES + uriBytes.length + 8 + 4 + body.length);
  let at = out.writeUInt8(FORM_CODES.get(serde) ?? 0, 0);
  at = out.writeUInt16LE(uriBytes.length, at);
  at += uriBytes.copy(out, at);
  at = out.writeDoubleLE(deadline, at);
  at = out.writeUInt32LE(body.length, at);
  body.copy(out, at);
  return out;
}

/** The requests of a pack's data; throws CS_ERR_INPUT_DECODE when it is cut or malformed. */
export function decodePack(data: Buffer): PackedRequest[] {
  const requests: PackedRequest[] = [];
  let at = 0;
  while (at < data.length) {
    const where = `pack request ${requests.length + 1} at byte ${at}`;
    if (at + HEADER_BYTES > data.length) throw cut(where, 'header');
    const serde = FORMS[data.readUInt8(at)];
    if (serde === undefined && data.readUInt8(at) !== 0) {
      throw new CsError('CS_ERR_INPUT_DECODE', `${where}: unknown form code ${data.readUInt8(at)}`);
    }
    const uriLength = data.readUInt16LE(at + 1);
    at += HEADER_BYTES;
    if (at + uriLength + 12 > data.length) throw cut(where, 'uri and deadline');
    let uri: string;
    try {
      uri = UTF8.decode(data.subarray(at, at + uriLength));
    } catch {
      throw new CsError('CS_ERR_INPUT_DECODE', `${where}: uri is not valid UTF-8`);
    }
    at += uriLength;
    const deadline = data.readDoubleLE(at);
    const length = data.readUInt32LE(at + 8);
    at += 12;
    if (at + length > data.length) throw cut(where, 'data');
    requests.push({ uri, serde, deadline, data: data.subarray(at, at + length) });
    at += length;
  }
  return requests;
}

/** The payload of a `pack` reply: every request's own reply message. */
export function encodePackReply(messages: readonly Buffer[]): Buffer {
  let total = 0;
  for (const message of messages) total += 4 + message.length;
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const message of messages) {
    at = out.writeUInt32LE(message.length, at);
    at += message.copy(out, at);
  }
  return out;
}

/** The reply messages a `pack` reply carries (views over `payload`). */
export function decodePackReply(payload: Buffer): Buffer[] {
  const messages: Buffer[] = [];
  let at = 0;
  while (at < payload.length) {
    if (at + 4 > payload.length) throw cut(`pack reply message ${messages.length + 1}`, 'length');
    const length = payload.readUInt32LE(at);
    at += 4;
    if (at + length > payload.length) throw cut(`pack reply message ${messages.length + 1}`, 'body');
    messages.push(payload.subarray(at, at + length));
    at += length;
  }
  return messages;
}

function cut(where: string, part: string): CsError {
  return new CsError('CS_ERR_INPUT_DECODE', `${where}: the ${part} runs past the end of the pack`);
}

/** The uris a reply message answers: its own, or for a `pack` reply each request's. */
export function answeredUris(message: Buffer): string[] {
  const reply = decodeReply(message);
  if (reply.kind !== 'pack') return [reply.uri];
  return decodePackReply(reply.payload).map((inner) => decodeReply(inner).uri);
}
