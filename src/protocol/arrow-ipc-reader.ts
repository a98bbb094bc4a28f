/**
 * A reader for the Arrow IPC streams that BigDL payloads are, written for hostile input on
 * the worker's hot path: it parses the metadata with bounded FlatBuffer reads, checks every
 * buffer against the message body, and hands out views over the payload bytes (no per-value
 * objects). It knows the types BigDL uses (struct, list, int, float, utf8) and names the
 * others so that callers can say what they found. Accepts both the current framing
 * (0xFFFFFFFF continuation marker before each message) and the legacy one of pyarrow < 0.15.
 */
import { CsError } from '../errors/registry.js';
import { FlatBufferReader } from './flatbuffer-reader.js';

export type IpcType =
  | { readonly kind: 'struct' }
  | { readonly kind: 'list' }
  | { readonly kind: 'int'; readonly bitWidth: number; readonly signed: boolean }
  | { readonly kind: 'float'; readonly bits: 16 | 32 | 64 }
  | { readonly kind: 'utf8' }
  | { readonly kind: 'unsupported'; readonly name: string };

export interface IpcField {
  readonly name: string;
  readonly type: IpcType;
  readonly children: readonly IpcField[];
}

export interface IpcColumn {
  readonly field: IpcField;
  readonly length: number;
  /** Bit per row, set when valid; undefined when the column has no nulls. */
  readonly validity: Uint8Array | undefined;
  /** list and utf8: length + 1 offsets, checked to be non-decreasing and within the child / data. */
  readonly offsets: Int32Array | undefined;
  /** int and float: exactly length × width bytes; utf8: the string bytes. */
  readonly values: Uint8Array | undefined;
  readonly children: readonly IpcColumn[];
}

/** A record batch as read: its nodes and buffers, assembled into columns on demand. */
export interface IpcBatch {
  readonly length: number;
  readonly nodes: readonly { readonly length: number; readonly nullCount: number }[];
  readonly buffers: readonly { readonly offset: number; readonly length: number }[];
  readonly body: Uint8Array;
}

const TYPE_NAMES = [
  'none', 'null', 'int', 'float', 'binary', 'utf8', 'bool', 'decimal', 'date', 'time', 'timestamp',
  'interval', 'list', 'struct', 'union', 'fixed_size_binary', 'fixed_size_list', 'map', 'duration',
  'large_binary', 'large_utf8', 'large_list', 'run_end_encoded', 'binary_view', 'utf8_view',
  'list_view', 'large_list_view',
]; // prettier-ignore

const MESSAGE_SCHEMA = 1;
const MESSAGE_DICTIONARY = 2;
const MESSAGE_RECORD_BATCH = 3;
const METADATA_V4 = 3;
const MAX_DEPTH = 8;
const MAX_FIELDS = 4096;
const MAX_ROWS = 0x7fffffff;

function fail(what: string, why: string): never {
  throw new CsError('CS_ERR_INPUT_DECODE', `${what}: ${why}`);
}

/** `struct<a: list<int32>>`, `float64`, `large_utf8`, ... */
export function typeText(field: IpcField): string {
  const { type, children } = field;
  switch (type.kind) {
    case 'struct':
      return `struct<${children.map((c) => `${c.name}: ${typeText(c)}`).join(', ')}>`;
    case 'list':
      return `list<${children[0] === undefined ? '?' : typeText(children[0])}>`;
    case 'int':
      return `${type.signed ? '' : 'u'}int${type.bitWidth}`;
    case 'float':
      return `float${type.bits}`;
    case 'utf8':
      return 'utf8';
    case 'unsupported':
      return type.name;
  }
}

function parseType(fb: FlatBufferReader, field: number, childCount: number): IpcType {
  const typeId = fb.fieldU8(field, 2, 0);
  const table = fb.table(field, 3);
  if (fb.table(field, 4) !== undefined) return { kind: 'unsupported', name: 'dictionary' };
  const name = TYPE_NAMES[typeId] ?? `type ${typeId}`;
  if (typeId === 13) return { kind: 'struct' };
  if (typeId === 12) {
    if (childCount !== 1) fb.fail(`a list field has ${childCount} children, not 1`);
    return { kind: 'list' };
  }
  const leaf = typeId === 2 || typeId === 3 || typeId === 5;
  if (leaf && childCount !== 0) fb.fail(`a ${name} field has children`);
  if (typeId === 5) return { kind: 'utf8' };
  if (typeId === 2 && table !== undefined) {
    const bitWidth = fb.fieldI32(table, 0, 0);
    if (bitWidth !== 8 && bitWidth !== 16 && bitWidth !== 32 && bitWidth !== 64)
      fb.fail(`int of ${bitWidth} bits`);
    return { kind: 'int', bitWidth, signed: fb.fieldU8(table, 1, 0) !== 0 };
  }
  if (typeId === 3 && table !== undefined) {
    const bits = ([16, 32, 64] as const)[fb.fieldI16(table, 0, 0)];
    if (bits === undefined) fb.fail('unknown float precision');
    return { kind: 'float', bits };
  }
  return { kind: 'unsupported', name };
}

function parseSchema(fb: FlatBufferReader, schema: number): IpcField[] {
  if (fb.fieldI16(schema, 0, 0) !== 0) fb.fail('big-endian streams are not supported');
  let count = 0;
  const parseField = (table: number, depth: number): IpcField => {
    if (++count > MAX_FIELDS) fb.fail(`more than ${MAX_FIELDS} fields`);
    if (depth > MAX_DEPTH) fb.fail(`types nested deeper than ${MAX_DEPTH} levels`);
    const vector = fb.vector(table, 5, 4);
    const children: IpcField[] = [];
    for (let i = 0; i < vector.length; i++) children.push(parseField(fb.tableAt(vector, i), depth + 1));
    return { name: fb.string(table, 0), type: parseType(fb, table, children.length), children };
  };
  const fields = fb.vector(schema, 1, 4);
  return Array.from({ length: fields.length }, (_, i) => parseField(fb.tableAt(fields, i), 0));
}

function parseBatch(fb: FlatBufferReader, batch: number, body: Uint8Array): IpcBatch {
  if (fb.table(batch, 3) !== undefined) fb.fail('compressed record batches are not supported');
  const length = fb.fieldSize(batch, 0);
  const nodeVector = fb.vector(batch, 1, 16);
  const bufferVector = fb.vector(batch, 2, 16);
  const nodes = Array.from({ length: nodeVector.length }, (_, i) => ({
    length: fb.size(nodeVector.start + 16 * i),
    nullCount: fb.size(nodeVector.start + 16 * i + 8),
  }));
  const buffers = Array.from({ length: bufferVector.length }, (_, i) => ({
    offset: fb.size(bufferVector.start + 16 * i),
    length: fb.size(bufferVector.start + 16 * i + 8),
  }));
  return { length, nodes, buffers, body };
}

/** The schema's custom_metadata (key/value strings); a repeated key keeps its last value. */
function parseSchemaMetadata(fb: FlatBufferReader, schema: number): Map<string, string> {
  const entries = fb.vector(schema, 2, 4);
  const metadata = new Map<string, string>();
  for (let i = 0; i < entries.length; i++) {
    const entry = fb.tableAt(entries, i);
    metadata.set(fb.string(entry, 0), fb.string(entry, 1));
  }
  return metadata;
}

export interface IpcStream {
  readonly fields: readonly IpcField[];
  /** The schema's custom metadata (empty when it has none). */
  readonly metadata: ReadonlyMap<string, string>;
  readonly batches: IpcBatch[];
}

interface KnownSchema {
  /** The schema message's metadata bytes (a copy). */
  readonly message: Buffer;
  readonly bodyLength: number;
  readonly fields: readonly IpcField[];
  readonly metadata: ReadonlyMap<string, string>;
}

/**
 * Schemas read lately, most recent first. A client sends the same schema with every record
 * (BigDL's Python client, ours from its per-signature template, a worker's results), so the
 * schema of most streams is found here by comparing bytes instead of parsed again.
 */
const knownSchemas: KnownSchema[] = [];
const KNOWN_SCHEMAS = 8;

function knownSchema(message: Uint8Array): KnownSchema | undefined {
  for (let i = 0; i < knownSchemas.length; i++) {
    const known = knownSchemas[i] as KnownSchema;
    if (known.message.length !== message.length || !known.message.equals(message)) continue;
    if (i > 0) {
      knownSchemas.splice(i, 1);
      knownSchemas.unshift(known);
    }
    return known;
  }
  return undefined;
}

function rememberSchema(known: KnownSchema): void {
  knownSchemas.unshift(known);
  if (knownSchemas.length > KNOWN_SCHEMAS) knownSchemas.pop();
}

/** Schema, its metadata and the record batches of an Arrow IPC stream; `what` names the payload in messages. */
export function readIpcStream(bytes: Uint8Array, what: string): IpcStream {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let fields: readonly IpcField[] | undefined;
  let metadata: ReadonlyMap<string, string> = new Map<string, string>();
  const batches: IpcBatch[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    if (pos + 4 > bytes.length) fail(what, `stream ends inside a message header at byte ${pos}`);
    let metadataLength = view.getInt32(pos, true);
    pos += 4;
    if (metadataLength === -1) {
      if (pos + 4 > bytes.length) fail(what, `stream ends inside a message header at byte ${pos}`);
      metadataLength = view.getInt32(pos, true);
      pos += 4;
    }
    if (metadataLength === 0) break;
    if (metadataLength < 0 || pos + metadataLength > bytes.length) {
      fail(
        what,
        `not an Arrow IPC stream: a message claims ${metadataLength} metadata bytes, ${bytes.length - pos} left`,
      );
    }
    const known = fields === undefined ? knownSchema(bytes.subarray(pos, pos + metadataLength)) : undefined;
    if (known !== undefined) {
      pos += metadataLength;
      if (pos + known.bodyLength > bytes.length)
        fail(what, `a message body of ${known.bodyLength} bytes is cut off`);
      pos += known.bodyLength;
      ({ fields, metadata } = known);
      continue;
    }
    const fb = new FlatBufferReader(bytes.subarray(pos, pos + metadataLength), `${what}: Arrow metadata`);
    pos += metadataLength;
    const message = fb.root();
    if (fb.fieldI16(message, 0, 0) < METADATA_V4)
      fb.fail('metadata older than Arrow format V4 is not supported');
    const type = fb.fieldU8(message, 1, 0);
    const header = fb.table(message, 2) ?? fb.fail('message without a header');
    const bodyLength = fb.fieldSize(message, 3);
    if (pos + bodyLength > bytes.length) fail(what, `a message body of ${bodyLength} bytes is cut off`);
    const body = bytes.subarray(pos, pos + bodyLength);
    pos += bodyLength;
    if (fields === undefined) {
      if (type !== MESSAGE_SCHEMA) fail(what, 'not an Arrow IPC stream: it does not start with a schema');
      fields = parseSchema(fb, header);
      metadata = parseSchemaMetadata(fb, header);
      const message = Buffer.from(bytes.subarray(pos - bodyLength - metadataLength, pos - bodyLength));
      rememberSchema({ message, bodyLength, fields, metadata });
    } else if (type === MESSAGE_RECORD_BATCH) {
      batches.push(parseBatch(fb, header, body));
    } else {
      fail(
        what,
        type === MESSAGE_DICTIONARY ? 'dictionary-encoded columns are not supported' : `message type ${type}`,
      );
    }
  }
  if (fields === undefined) fail(what, 'not an Arrow IPC stream: no schema message found');
  if (batches.length === 0) fail(what, 'holds an Arrow schema but no record batch');
  return { fields, metadata, batches };
}

/** True when row `row` of `column` is not null. */
export function isValidAt(column: IpcColumn, row: number): boolean {
  return column.validity === undefined || ((column.validity[row >> 3]! >> (row & 7)) & 1) === 1;
}

function int32View(bytes: Uint8Array): Int32Array {
  if (bytes.byteOffset % 4 === 0) return new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  return new Int32Array(bytes.slice().buffer);
}

/**
 * The columns of `batch` for `fields` (which must hold no unsupported type: check first).
 * Nodes and buffers are consumed depth-first, in the order the Arrow format lays them out.
 */
export function columnsOf(fields: readonly IpcField[], batch: IpcBatch, what: string): IpcColumn[] {
  let nodeIndex = 0;
  let bufferIndex = 0;
  /** The next buffer, cut to `bytesNeeded` (all of it when undefined). */
  const buffer = (bytesNeeded: number | undefined, role: string): Uint8Array => {
    const entry = batch.buffers[bufferIndex++] ?? fail(what, 'fewer buffers than the schema needs');
    if (entry.offset + entry.length > batch.body.length) fail(what, `a ${role} buffer lies outside the body`);
    const size = bytesNeeded ?? entry.length;
    if (entry.length < size) fail(what, `a ${role} buffer holds ${entry.length} bytes, ${size} needed`);
    return batch.body.subarray(entry.offset, entry.offset + size);
  };
  const assemble = (field: IpcField): IpcColumn => {
    const node = batch.nodes[nodeIndex++] ?? fail(what, 'fewer field nodes than the schema needs');
    const { length, nullCount } = node;
    if (length > MAX_ROWS || nullCount > length)
      fail(what, `column "${field.name}" claims ${length} rows, ${nullCount} null`);
    const bitmap = buffer(nullCount > 0 ? Math.ceil(length / 8) : 0, 'validity');
    const validity = nullCount > 0 ? bitmap : undefined;
    const { type } = field;
    if (type.kind === 'struct') {
      const children = field.children.map(assemble);
      if (children.some((c) => c.length < length)) fail(what, `struct "${field.name}" has shorter children`);
      return { field, length, validity, offsets: undefined, values: undefined, children };
    }
    if (type.kind === 'int' || type.kind === 'float') {
      const width = (type.kind === 'int' ? type.bitWidth : type.bits) / 8;
      return {
        field,
        length,
        validity,
        offsets: undefined,
        values: buffer(length * width, 'values'),
        children: [],
      };
    }
    if (type.kind === 'unsupported')
      return fail(what, `column "${field.name}" has unsupported type ${type.name}`);
    const offsets = int32View(buffer(length === 0 ? 0 : 4 * (length + 1), 'offsets'));
    const children = type.kind === 'list' ? [assemble(field.children[0]!)] : [];
    const values = type.kind === 'utf8' ? buffer(undefined, 'data') : undefined;
    const limit = values === undefined ? children[0]!.length : values.length;
    for (let i = 0; i < offsets.length; i++) {
      if (offsets[i]! < (i === 0 ? 0 : offsets[i - 1]!) || offsets[i]! > limit) {
        fail(what, `column "${field.name}" has offsets out of order or beyond its values`);
      }
    }
    return { field, length, validity, offsets, values, children };
  };
  return fields.map(assemble);
}
