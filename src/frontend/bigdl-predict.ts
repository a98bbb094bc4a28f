import { CsError, isCsError, reasonOf } from '../errors/registry.js';
import { castTensor } from '../protocol/cast.js';
import { formatShape, matchInputs, shapeProblem } from '../protocol/input-match.js';
import type { ModelMetadata } from '../protocol/model-metadata.js';
import { bigdlStringTensor } from '../protocol/string-input.js';
import type { NamedTensor, Tensor } from '../protocol/tensor.js';
import { shapeJson, tensorDataJson } from './tensor-json.js';

/** A `/predict` instance ready to be sent: our tensor form, or BigDL's JSON for the worker to decode. */
export type PreparedInstance =
  | { readonly kind: 'tensors'; readonly inputs: NamedTensor[] }
  | { readonly kind: 'bigdl-json'; readonly body: string };

/**
 * Instances holding strings (images, `|`-joined text) go to the worker as BigDL JSON, which it
 * decodes by BigDL's rules; all-numeric instances are checked and cast here and sent in our
 * tensor form.
 */
export function prepareInstance(
  instance: readonly NamedTensor[],
  index: number,
  model: ModelMetadata,
): PreparedInstance {
  const inputs = instanceToInputs(instance, index, model);
  if (!instance.some((t) => t.type === 'BYTES')) return { kind: 'tensors', inputs };
  const values: Record<string, unknown> = {};
  for (const tensor of instance) {
    values[tensor.name] = tensor.type === 'BYTES' ? (tensor.data as string[]).join('|') : nested(tensor);
  }
  return { kind: 'bigdl-json', body: JSON.stringify({ instances: [values] }) };
}

/** A numeric tensor back as nested arrays of its shape (a scalar shape [1] stays [x]). */
function nested(tensor: Tensor): unknown {
  const flat = Array.from(tensor.data as ArrayLike<number | bigint>, (v) => Number(v));
  const build = (dim: number, offset: number): unknown => {
    const size = tensor.shape[dim] ?? flat.length;
    if (dim >= tensor.shape.length - 1) return flat.slice(offset, offset + size);
    const stride = tensor.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
    return Array.from({ length: size }, (_, i) => build(dim + 1, offset + i * stride));
  };
  return build(0, 0);
}

/**
 * One `/predict` instance as the entry a worker runs: columns mapped to model inputs by name
 * when every column is an input name, else by position (BigDL's rule); values cast to the
 * datatype the model declares; the batch dimension added unless the job says inputs are
 * already batched. Strings stay BYTES for the worker (image or `|`-joined strings).
 */
export function instanceToInputs(
  instance: readonly NamedTensor[],
  index: number,
  model: ModelMetadata,
): NamedTensor[] {
  const where = `instances[${index}]`;
  const match = matchInputs(instance, model.inputs);
  if (!match.ok && match.problem === 'count') {
    throw new CsError(
      'CS_ERR_INPUT_MISMATCH',
      `${where} has ${instance.length} value(s) (${instance.map((t) => t.name).join(', ')}); model "${model.name}" takes ${model.inputs.length} input(s): ${model.inputs.map((s) => s.name).join(', ')}`,
    );
  }
  if (!match.ok) {
    throw new CsError(
      'CS_ERR_INPUT_MISMATCH',
      `${where} lacks input(s) ${match.missing.join(', ')} of model "${model.name}"`,
    );
  }
  return match.tensors.map((tensor, position) => {
    const spec = model.inputs[position];
    if (spec === undefined)
      throw new CsError('CS_ERR_INTERNAL', `${where}: no model input for ${tensor.name}`);
    const label = `${where}.${tensor.name}`;
    let value: Tensor = tensor;
    if (tensor.type !== 'BYTES' && tensor.type !== spec.datatype && spec.datatype !== 'BYTES') {
      try {
        value = castTensor(tensor, spec.datatype);
      } catch (error) {
        throw new CsError(
          'CS_ERR_INPUT_MISMATCH',
          `${label}: ${isCsError(error) ? error.message : reasonOf(error)}`,
        );
      }
    }
    if (tensor.type === 'BYTES' && spec.datatype === 'BYTES') {
      const text = (tensor.data as string[])[0] ?? '';
      return { name: spec.name, ...bigdlStringTensor(text, spec, !model.inputAlreadyBatched) };
    }
    const shape = model.inputAlreadyBatched ? value.shape : [1, ...value.shape];
    if (tensor.type !== 'BYTES') {
      const problem = shapeProblem(spec.shape, shape);
      if (problem !== undefined) {
        throw new CsError(
          'CS_ERR_INPUT_MISMATCH',
          `${label}: shape ${formatShape(shape)} does not fit the model's ${formatShape(spec.shape)} (${problem})` +
            (model.inputAlreadyBatched ? '' : '; each instance is one sample, without the batch dimension'),
        );
      }
    }
    return { name: spec.name, type: value.type, shape, data: value.data };
  });
}

/**
 * One element of BigDL's `{"predictions":[...]}`: a string holding `{"value":"..."}`, where the
 * value is `{"data":[...],"shape":[...]}` per output, concatenated in output order (what BigDL
 * 2.x's frontend made of a multi-output result), or the postProcessing text itself.
 */
export function predictionElement(outputs: readonly Tensor[] | string, stripBatch: boolean): string {
  if (typeof outputs === 'string') return JSON.stringify({ value: outputs });
  let value = '';
  for (const output of outputs) {
    const shape =
      stripBatch && output.shape.length > 0 && output.shape[0] === 1 ? output.shape.slice(1) : output.shape;
    value += `{"data":${tensorDataJson(output)},"shape":${shapeJson(shape)}}`;
  }
  return JSON.stringify({ value });
}
