import { CsError } from '../errors/registry.js';
import { canClassify } from '../protocol/classification.js';
import { formatShape, shapeProblem } from '../protocol/input-match.js';
import type { ModelMetadata, TensorSpec } from '../protocol/model-metadata.js';
import type { NamedTensor } from '../protocol/tensor.js';

function mismatch(message: string): CsError {
  return new CsError('CS_ERR_INPUT_MISMATCH', message);
}

function names(specs: readonly TensorSpec[]): string {
  return specs.map((s) => s.name).join(', ');
}

/**
 * OIP inputs against the model the workers published: every model input given once, no other
 * names, the declared datatype, and a shape that fits the declared one. Checked here so a
 * wrong request is a 400 before anything reaches Redis.
 */
export function checkInferInputs(inputs: readonly NamedTensor[], model: ModelMetadata): void {
  for (const input of inputs) {
    const spec = model.inputs.find((s) => s.name === input.name);
    if (spec === undefined) {
      throw mismatch(
        `input "${input.name}" is not an input of model "${model.name}" (its inputs: ${names(model.inputs)})`,
      );
    }
    // BYTES for a numeric input carries images, one per element; the worker decodes them and
    // checks the decoded shape.
    if (input.type === 'BYTES' && spec.datatype !== 'BYTES' && input.shape.length === 1) continue;
    if (spec.datatype !== input.type) {
      throw mismatch(
        `input "${input.name}": datatype ${input.type} does not match the model's ${spec.datatype}`,
      );
    }
    const problem = shapeProblem(spec.shape, input.shape);
    if (problem !== undefined) {
      throw mismatch(
        `input "${input.name}": shape ${formatShape(input.shape)} does not fit the model's ${formatShape(spec.shape)} (${problem})`,
      );
    }
  }
  const missing = model.inputs.filter((s) => !inputs.some((i) => i.name === s.name));
  if (missing.length > 0) {
    throw mismatch(
      `missing input ${missing.map((s) => `"${s.name}"`).join(', ')} (model "${model.name}" needs ${names(model.inputs)})`,
    );
  }
}

export function checkOutputFilter(requested: readonly string[] | undefined, model: ModelMetadata): void {
  if (requested === undefined) return;
  for (const name of requested) {
    if (!model.outputs.some((s) => s.name === name)) {
      throw mismatch(
        `output "${name}" is not an output of model "${model.name}" (its outputs: ${names(model.outputs)})`,
      );
    }
  }
}

/** Classification asked of an output whose type Triton cannot classify is refused before any work. */
export function checkClassifications(requested: ReadonlyMap<string, number>, model: ModelMetadata): void {
  for (const name of requested.keys()) {
    const spec = model.outputs.find((s) => s.name === name);
    if (spec !== undefined && !canClassify(spec.datatype)) {
      throw new CsError(
        'CS_ERR_HTTP_BAD_REQUEST',
        `output "${name}": classification is not available for ${spec.datatype} outputs`,
      );
    }
  }
}
