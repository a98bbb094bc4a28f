import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { BIGDL_IMAGE_OPTIONS } from '../../../src/config/image-keys.js';
import type { ImageOptions } from '../../../src/config/types.js';
import { encodeBigdlInput } from '../../../src/protocol/bigdl-input.js';
import type { ModelMetadata, TensorSpec } from '../../../src/protocol/model-metadata.js';
import { SERDE } from '../../../src/contracts/stream-entry.js';
import { encodeTensorFrame } from '../../../src/protocol/tensor-frame.js';
import type { NamedTensor } from '../../../src/protocol/tensor.js';
import { RECORD_BOUND_DEFAULTS } from '../../../src/protocol/record-bounds.js';
import { decodeRecord, requestsOf, type DecodedRecord } from '../../../src/worker/record-decoder.js';

const IMAGE: ImageOptions = BIGDL_IMAGE_OPTIONS;

function model(inputs: TensorSpec[]): ModelMetadata {
  return {
    name: 'job',
    platform: 'onnx_onnxv1',
    modelPath: '/m.onnx',
    inputs,
    outputs: [],
    batchable: inputs.every((i) => i.shape.length > 0 && i.shape[0] === -1),
    inputAlreadyBatched: false,
    maxBatchSize: 32,
  };
}

async function decode(
  fields: Record<string, string | Buffer>,
  inputs: TensorSpec[],
  image: ImageOptions = IMAGE,
): Promise<DecodedRecord> {
  const entry = {
    id: '1-0',
    deliveries: 1,
    fields: new Map(Object.entries({ uri: 'u', ...fields }).map(([k, v]) => [k, Buffer.from(v)])),
  };
  const requests = requestsOf(entry);
  const address = requests.ok ? requests.records[0] : undefined;
  if (address === undefined) throw new Error('no address');
  return decodeRecord(address, {
    model: model(inputs),
    inputAlreadyBatched: false,
    maxDeliveries: 3,
    now: 0,
    image,
    bounds: RECORD_BOUND_DEFAULTS,
  });
}

const frame = (tensors: NamedTensor[]): Record<string, Buffer | string> => ({
  serde: SERDE.tensor,
  data: encodeTensorFrame(tensors),
});

async function png(): Promise<string> {
  const raw = Buffer.from([1, 2, 3, 4, 5, 6]);
  return (
    await sharp(raw, { raw: { width: 2, height: 1, channels: 3 } })
      .png()
      .toBuffer()
  ).toString('base64');
}

describe('decodeRecord: strings and images', () => {
  const image: TensorSpec = { name: 'x', datatype: 'FP32', shape: [-1, 3, -1, -1] };

  it("BigDL's string column for a numeric input is an image with the batch dimension added", async () => {
    const record = await decode(
      { data: encodeBigdlInput([{ name: 'x', type: 'BYTES', shape: [1], data: [await png()] }]) },
      [image],
    );
    if (!record.ok) throw new Error(record.message);
    expect(record.inputs[0]?.shape).toEqual([1, 3, 1, 2]);
    expect(Array.from(record.inputs[0]?.data as Float32Array)).toEqual([3, 6, 2, 5, 1, 4]);
    expect(record.rows).toBe(1);
  });

  it('a BYTES tensor of our form holds one image per row, cast to the declared type', async () => {
    const b64 = await png();
    const u8: TensorSpec = { ...image, datatype: 'UINT8' };
    const record = await decode(frame([{ name: 'x', type: 'BYTES', shape: [3], data: [b64, b64, b64] }]), [
      u8,
    ]);
    if (!record.ok) throw new Error(record.message);
    expect(record.inputs[0]).toMatchObject({ type: 'UINT8', shape: [3, 3, 1, 2] });
    expect(record.rows).toBe(3);
  });

  it('a bad image fails the record with CS_ERR_INPUT_DECODE and its reason', async () => {
    const record = await decode(frame([{ name: 'x', type: 'BYTES', shape: [1], data: ['@@@@'] }]), [image]);
    expect(record).toMatchObject({ ok: false, code: 'CS_ERR_INPUT_DECODE' });
    if (!record.ok) expect(record.message).toContain('input "x": expected a base64 JPEG or PNG image');
  });

  it('BigDL strings split on | into one row for an [N,K] input and into rows for an [N] input', async () => {
    const data = encodeBigdlInput([{ name: 't', type: 'BYTES', shape: [1], data: ['a|b|c'] }]);
    const wide = await decode({ data }, [{ name: 't', datatype: 'BYTES', shape: [-1, -1] }]);
    if (!wide.ok) throw new Error(wide.message);
    expect(wide.inputs[0]).toEqual({ type: 'BYTES', shape: [1, 3], data: ['a', 'b', 'c'] });
    const rows = await decode({ data }, [{ name: 't', datatype: 'BYTES', shape: [-1] }]);
    if (!rows.ok) throw new Error(rows.message);
    expect(rows.inputs[0]).toEqual({ type: 'BYTES', shape: [3], data: ['a', 'b', 'c'] });
    expect(rows.rows).toBe(3);
  });

  it('our BYTES tensors are not split', async () => {
    const record = await decode(frame([{ name: 't', type: 'BYTES', shape: [1], data: ['a|b'] }]), [
      { name: 't', datatype: 'BYTES', shape: [-1] },
    ]);
    if (!record.ok) throw new Error(record.message);
    expect(record.inputs[0]?.data).toEqual(['a|b']);
  });

  it('a model that cannot be batched takes inputs whose first dims differ (recurrent state [2,N,64])', async () => {
    const specs: TensorSpec[] = [
      { name: 'input', datatype: 'FP32', shape: [-1, 4] },
      { name: 'sr', datatype: 'INT64', shape: [] },
      { name: 'h', datatype: 'FP32', shape: [2, -1, 3] },
    ];
    const record = await decode(
      frame([
        { name: 'input', type: 'FP32', shape: [1, 4], data: new Float32Array(4) },
        { name: 'sr', type: 'INT64', shape: [], data: BigInt64Array.of(16000n) },
        { name: 'h', type: 'FP32', shape: [2, 1, 3], data: new Float32Array(6) },
      ]),
      specs,
    );
    expect(record.ok).toBe(true);
    if (record.ok) expect(record.rows).toBe(1);
  });
});
