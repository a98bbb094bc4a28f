/**
 * The schema message of BigDL results ({data: float32, shape: int32}, both nullable) with the
 * full output shapes in its custom metadata (key `cluster-serving.shapes`, a JSON list with
 * one shape per record batch), where pyarrow's reader and BigDL's Python client do not look.
 */
import {
  Field,
  Float32,
  Int32,
  makeData,
  RecordBatch,
  RecordBatchStreamWriter,
  Schema,
  Struct,
} from 'apache-arrow';

export const RESULT_SCHEMA = new Schema([
  new Field('data', new Float32(), true),
  new Field('shape', new Int32(), true),
]);

/** Schema metadata key holding the full output shapes (a JSON list, one shape per batch). */
export const SHAPES_METADATA_KEY = 'cluster-serving.shapes';

export const pad8 = (n: number): number => (n + 7) & ~7;

const SHAPES_PLACEHOLDER = 'cluster-serving:shapes-placeholder';

/** The schema message (continuation marker and length included) carrying `shapesJson`. */
function buildSchemaMessage(shapesJson: string): Uint8Array {
  const schema = new Schema(RESULT_SCHEMA.fields, new Map([[SHAPES_METADATA_KEY, shapesJson]]));
  const empty = new RecordBatch(
    schema,
    makeData({
      type: new Struct(schema.fields),
      length: 0,
      nullCount: 0,
      children: [makeData({ type: new Float32(), length: 0 }), makeData({ type: new Int32(), length: 0 })],
    }),
  );
  const stream = RecordBatchStreamWriter.writeAll([empty]).toUint8Array(true);
  const view = new DataView(stream.buffer, stream.byteOffset, stream.byteLength);
  if (view.getUint32(0, true) !== 0xffffffff) throw new Error('unexpected Arrow stream framing');
  return stream.slice(0, 8 + view.getInt32(4, true));
}

/**
 * The schema flatbuffer, built once by apache-arrow with a placeholder metadata value, and
 * the position of the uoffset that points at that value. Each result appends its own value
 * string after the flatbuffer and points that uoffset at it (the placeholder stays, unused):
 * building the schema per result with apache-arrow would cost more than a small inference.
 */
const SCHEMA_TEMPLATE = (() => {
  const flatbuffer = Buffer.from(buildSchemaMessage(SHAPES_PLACEHOLDER).subarray(8));
  const view = new DataView(flatbuffer.buffer, flatbuffer.byteOffset, flatbuffer.byteLength);
  const stringAt = flatbuffer.indexOf(SHAPES_PLACEHOLDER) - 4;
  const references: number[] = [];
  for (let at = 0; stringAt > 0 && at + 4 <= stringAt; at += 4) {
    if (at + view.getUint32(at, true) === stringAt) references.push(at);
  }
  const [reference] = references;
  if (
    references.length !== 1 ||
    reference === undefined ||
    view.getUint32(stringAt, true) !== SHAPES_PLACEHOLDER.length ||
    flatbuffer.length % 8 !== 0
  ) {
    throw new Error('unexpected Arrow schema layout');
  }
  return { flatbuffer, reference };
})();

/** The schema message carrying `shapes` in its metadata. */
export function schemaMessage(shapes: readonly (readonly number[])[]): Buffer {
  const json = Buffer.from(JSON.stringify(shapes));
  const { flatbuffer, reference } = SCHEMA_TEMPLATE;
  const stringAt = flatbuffer.length;
  // length, bytes, the NUL flatbuffers put after strings, padding to 8 (zeros from alloc).
  const metadataLength = pad8(stringAt + 4 + json.length + 1);
  const message = Buffer.alloc(8 + metadataLength);
  message.writeUInt32LE(0xffffffff, 0);
  message.writeInt32LE(metadataLength, 4);
  message.set(flatbuffer, 8);
  message.writeUInt32LE(stringAt - reference, 8 + reference);
  message.writeUInt32LE(json.length, 8 + stringAt);
  message.set(json, 8 + stringAt + 4);
  return message;
}
