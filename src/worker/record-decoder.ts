import type { ImageOptions } from '../config/types.js';
import { MAX_URI_BYTES, SERDE, STREAM_FIELDS } from '../contracts/stream-entry.js';
import { CsError, reasonOf, type ErrorCode } from '../errors/registry.js';
import { concatBatch } from '../batching/concat.js';
import { decodeBigdlInput } from '../protocol/bigdl-input.js';
import { castTensor } from '../protocol/cast.js';
import { matchInputs, shapeProblem } from '../protocol/input-match.js';
import { encodedOverBounds, recordOverBounds, type RecordBounds } from '../protocol/record-bounds.js';
import { bigdlStringTensor } from '../protocol/string-input.js';
import { decodeInstances } from '../protocol/json-instances.js';
import type { ModelMetadata, TensorSpec } from '../protocol/model-metadata.js';
import { decodeTensorFrame } from '../protocol/tensor-frame.js';
import type { NamedTensor, Tensor } from '../protocol/tensor.js';
import { decodeImages } from './image-input.js';
import type { PixelPool } from './pixel-pool.js';
import type { StreamEntry } from './stream-entry.js';
import { decodePack, type PackedRequest } from '../contracts/request-pack.js';
import { DROPPED_BAD_PACK, DROPPED_NO_URI } from './answer-script.js';

/** `bigdl`: Arrow (or BigDL JSON) in, Arrow out. `tensor`: our binary form both ways. */
export type RecordForm = 'bigdl' | 'tensor';

/** What every record carries, decoded or not: where its answer goes. */
export interface RecordAddress {
  readonly entry: StreamEntry;
  readonly uri: string;
  readonly reply: string | undefined;
  readonly form: RecordForm;
  /** Set for a request of a pack entry: its own uri, serde, deadline and data. */
  readonly packed?: PackedRequest;
}

export interface ReadyRecord extends RecordAddress {
  readonly ok: true;
  /** In the order of the model's inputs, batch dimension included. */
  readonly inputs: Tensor[];
  readonly rows: number;
}

export interface FailedRecord extends RecordAddress {
  readonly ok: false;
  readonly code: ErrorCode;
  readonly message: string;
}

export type DecodedRecord = ReadyRecord | FailedRecord;

export interface DecodeContext {
  readonly model: ModelMetadata;
  readonly inputAlreadyBatched: boolean;
  readonly maxDeliveries: number;
  readonly now: number;
  /** How strings sent for numeric inputs (images) become tensors. */
  readonly image: ImageOptions;
  /** Where image tensors take their buffers; the caller gives them back once the batch is answered. */
  readonly pixels?: PixelPool;
  /** maxRecordBatch / maxRecordBytes: a record past them is answered with an error, not run. */
  readonly bounds: RecordBounds;
}

/** The requests of an entry, or why it cannot be answered (it is removed, counted and logged). */
export type EntryRequests =
  | { readonly ok: true; readonly records: RecordAddress[] }
  | { readonly ok: false; readonly counter: string; readonly reason: string };

export function requestsOf(entry: StreamEntry): EntryRequests {
  const uri = entry.fields.get(STREAM_FIELDS.uri);
  if (uri === undefined || uri.length === 0 || uri.length > MAX_URI_BYTES) {
    return {
      ok: false,
      counter: DROPPED_NO_URI,
      reason: `entry without a usable uri (missing, empty or over ${MAX_URI_BYTES} bytes) removed unanswered`,
    };
  }
  const serde = entry.fields.get(STREAM_FIELDS.serde)?.toString();
  const reply = entry.fields.get(STREAM_FIELDS.reply)?.toString();
  if (serde !== SERDE.pack) {
    const form = serde === SERDE.tensor ? 'tensor' : 'bigdl';
    return { ok: true, records: [{ entry, uri: uri.toString(), reply, form }] };
  }
  let requests: PackedRequest[];
  try {
    if (reply === undefined || reply === '') throw new Error('it has no reply channel');
    requests = decodePack(entry.fields.get(STREAM_FIELDS.data) ?? Buffer.alloc(0));
  } catch (error) {
    return {
      ok: false,
      counter: DROPPED_BAD_PACK,
      reason: `pack entry removed unanswered: ${reasonOf(error)}`,
    };
  }
  return {
    ok: true,
    records: requests.map((packed) => ({
      entry,
      uri: packed.uri,
      reply,
      form: packed.serde === SERDE.tensor ? 'tensor' : 'bigdl',
      packed,
    })),
  };
}

/** Async because sharp decodes images on libuv's threads; everything else is synchronous. */
export async function decodeRecord(address: RecordAddress, context: DecodeContext): Promise<DecodedRecord> {
  const { entry } = address;
  if (entry.deliveries > context.maxDeliveries) {
    return fail(
      address,
      'CS_ERR_POISON_RECORD',
      `record was delivered ${entry.deliveries} times and never answered (workers died on it); it is not run again (maxDeliveries ${context.maxDeliveries})`,
    );
  }
  const { packed } = address;
  const deadline = packed?.deadline ?? entry.fields.get(STREAM_FIELDS.deadline)?.toString();
  if (deadline !== undefined && Number(deadline) < context.now) {
    return fail(
      address,
      'CS_ERR_DEADLINE_EXCEEDED',
      'the request passed its deadline before a worker took it',
    );
  }
  const data = packed === undefined ? entry.fields.get(STREAM_FIELDS.data) : packed.data;
  if (data === undefined) return fail(address, 'CS_ERR_INPUT_DECODE', 'entry has no "data" field');
  const encodedProblem = encodedOverBounds(data.length, context.bounds);
  if (encodedProblem !== undefined) return fail(address, 'CS_ERR_RECORD_TOO_LARGE', encodedProblem);
  try {
    const serde = packed === undefined ? entry.fields.get(STREAM_FIELDS.serde)?.toString() : packed.serde;
    const { model } = context;
    if (serde === undefined || serde === '') {
      const tensors = decodeBigdlInput(data);
      return ready(address, await prepareSample(tensors, context, true), model, context.bounds);
    }
    if (serde === SERDE.bigdlJson) {
      const instances = decodeInstances(data);
      const samples = await Promise.all(instances.map((tensors) => prepareSample(tensors, context, true)));
      const inputs = model.inputs.map((_, i) => concatBatch(samples.map((s) => s[i] as Tensor)));
      return ready(address, inputs, model, context.bounds);
    }
    if (serde === SERDE.tensor) {
      return ready(
        address,
        await prepareSample(decodeTensorFrame(data), context, false),
        model,
        context.bounds,
      );
    }
    return fail(
      address,
      'CS_ERR_INPUT_UNSUPPORTED',
      `unknown serde "${serde}"; expected none (BigDL Arrow), "stream" (BigDL JSON) or "${SERDE.tensor}"`,
    );
  } catch (error) {
    const code = error instanceof CsError ? error.code : 'CS_ERR_INPUT_DECODE';
    return fail(address, code, reasonOf(error));
  }
}

/** Matches decoded columns to the model's inputs (by name when every name matches, else by position), casts and checks them. */
async function prepareSample(
  tensors: readonly NamedTensor[],
  context: DecodeContext,
  bigdl: boolean,
): Promise<Tensor[]> {
  const specs = context.model.inputs;
  const match = matchInputs(tensors, specs);
  if (!match.ok && match.problem === 'count') {
    throw new CsError(
      'CS_ERR_INPUT_MISMATCH',
      `the model takes ${specs.length} input(s) (${specs.map((s) => s.name).join(', ')}); the record has ${tensors.length} (${tensors.map((t) => t.name).join(', ')})`,
    );
  }
  if (!match.ok) {
    throw new CsError('CS_ERR_INPUT_MISMATCH', `input "${match.missing[0]}" is missing from the record`);
  }
  const addBatch = bigdl && !context.inputAlreadyBatched;
  return Promise.all(
    specs.map(async (spec, i) => {
      const tensor = match.tensors[i];
      if (tensor === undefined) throw new CsError('CS_ERR_INTERNAL', `input "${spec.name}" was not matched`);
      if (bigdl && tensor.type === 'BYTES' && spec.datatype === 'BYTES') {
        // The split strings already carry the batch dimension where the model has room for one.
        return checkShape(
          spec,
          bigdlStringTensor((tensor.data as string[])[0] ?? '', spec, addBatch),
          addBatch,
        );
      }
      const typed = await toDeclaredType(spec, tensor, bigdl, context);
      return checkShape(spec, withBatch(typed, addBatch), addBatch);
    }),
  );
}

async function toDeclaredType(
  spec: TensorSpec,
  tensor: Tensor,
  bigdl: boolean,
  context: DecodeContext,
): Promise<Tensor> {
  if (tensor.type === 'BYTES' && spec.datatype === 'BYTES') return tensor;
  let numeric = tensor;
  if (tensor.type === 'BYTES') {
    // A string for a numeric input is an image. BigDL's string column is one sample (the batch
    // dimension is added later); a BYTES tensor of our client or OIP holds one image per row.
    const where = `input "${spec.name}"`;
    const pixels = await decodeImages(tensor.data as string[], spec, context.image, where, context.pixels);
    numeric = bigdl ? { ...pixels, shape: pixels.shape.slice(1) } : pixels;
  }
  try {
    return castTensor(numeric, spec.datatype);
  } catch (error) {
    throw new CsError('CS_ERR_INPUT_MISMATCH', `input "${spec.name}": ${reasonOf(error)}`, { cause: error });
  }
}

function withBatch(tensor: Tensor, add: boolean): Tensor {
  return add ? { ...tensor, shape: [1, ...tensor.shape] } : tensor;
}

function checkShape(spec: TensorSpec, tensor: Tensor, added: boolean): Tensor {
  if (spec.shape.length === 0) return tensor;
  const declared = `[${spec.shape.map((d) => (d < 0 ? 'N' : String(d))).join(',')}]`;
  const got = `[${tensor.shape.join(',')}]`;
  const hint = added
    ? ' (after adding the batch dimension; set inputAlreadyBatched: true if records carry their own)'
    : '';
  if (shapeProblem(spec.shape, tensor.shape) !== undefined) {
    throw new CsError(
      'CS_ERR_INPUT_MISMATCH',
      `input "${spec.name}" expects shape ${declared}, got ${got}${hint}`,
    );
  }
  return tensor;
}

function ready(
  address: RecordAddress,
  inputs: Tensor[],
  model: ModelMetadata,
  bounds: RecordBounds,
): ReadyRecord {
  // Checked before any run: a record of thousands of rows would take the worker's memory.
  const tooLarge = recordOverBounds(inputs, model.batchable, bounds);
  if (tooLarge !== undefined) throw new CsError('CS_ERR_RECORD_TOO_LARGE', tooLarge);
  // A model that cannot be batched (an input whose first dim is fixed, such as a recurrent
  // state [2,N,64]) runs each record alone, so its inputs need not agree on a first dim.
  if (!model.batchable) return { ...address, ok: true, inputs, rows: 1 };
  const rows = inputs[0]?.shape[0] ?? 1;
  inputs.forEach((t) => {
    if (t.shape.length > 0 && t.shape[0] !== rows) {
      throw new CsError(
        'CS_ERR_INPUT_MISMATCH',
        `inputs disagree on the batch dimension (${rows} vs ${t.shape[0]})`,
      );
    }
  });
  return { ...address, ok: true, inputs, rows };
}

function fail(address: RecordAddress, code: ErrorCode, message: string): FailedRecord {
  return { ...address, ok: false, code, message };
}
