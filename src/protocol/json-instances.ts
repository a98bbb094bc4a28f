/**
 * BigDL's JSON request `{"instances":[{"<input>": value, ...}, ...]}` (serde "stream"
 * entries and POST /predict). A value is:
 *   - a number: an FP32 tensor of shape [1] (BigDL gives a scalar one dim, so a model input
 *     declared [1] or [batch, 1] receives it without reshaping);
 *   - nested arrays of numbers: FP32 with the shape the nesting implies (every level must
 *     have the same length, checked);
 *   - a string: BYTES [1], an image in base64 or `|`-joined strings (the worker decides by
 *     the model's input type);
 *   - {"shape":[..],"data":[..],"indices":[[dim 0 coords..],[dim 1 coords..],..]}: a sparse
 *     COO tensor, made dense FP32.
 */
import { CsError } from '../errors/registry.js';
import { parseWithArrayReads, type ArrayReadPlan } from './json-array-scan.js';
import { readNestedRun } from './json-number-run.js';
import { checkDenseShape, cooToDense } from './sparse.js';
import type { NamedTensor } from './tensor.js';

/** Deeper nesting than any model input has; bounds the recursion on hostile bodies. */
const MAX_NESTING = 32;
const EXPECTED_BODY = '{"instances":[{"<input>": value, ...}, ...]}';
const SPARSE_FORM = '{"shape":[...],"data":[...],"indices":[[dim 0 coords...],[dim 1 coords...],...]}';

function fail(message: string): never {
  throw new CsError('CS_ERR_INPUT_DECODE', message);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number') return 'a number';
  return `a ${typeof value}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Nested number arrays read from the body's bytes (the same values and shape JSON.parse gives). */
export class NestedNumbers {
  constructor(
    readonly shape: number[],
    readonly data: Float32Array,
  ) {}
}

/** An instance's value that is rectangular nested arrays of numbers is read as NestedNumbers. */
const INSTANCES_PLAN: ArrayReadPlan = {
  listKey: 'instances',
  read(bytes, start) {
    const run = readNestedRun(bytes, start);
    return run === undefined ? undefined : { value: new NestedNumbers(run.shape, run.data), end: run.end };
  },
};

/** The body parsed as JSON.parse would, but for values read in place (see INSTANCES_PLAN). */
export function parseInstancesBody(bytes: Buffer): unknown {
  return parseWithArrayReads(bytes, INSTANCES_PLAN);
}

export function decodeInstances(body: string | Buffer): NamedTensor[][] {
  let parsed: unknown;
  try {
    parsed = typeof body === 'string' ? JSON.parse(body) : parseInstancesBody(body);
  } catch (error) {
    fail(
      `body is not valid JSON (${error instanceof Error ? error.message : String(error)}): expected ${EXPECTED_BODY}`,
    );
  }
  if (!isPlainObject(parsed)) fail(`body must be a JSON object ${EXPECTED_BODY}, got ${describe(parsed)}`);
  if (!Object.hasOwn(parsed, 'instances')) fail(missingInstances(Object.keys(parsed)));
  const instances = parsed['instances'];
  if (!Array.isArray(instances) || instances.length === 0) {
    const got = Array.isArray(instances) ? 'an empty array' : describe(instances);
    fail(`"instances" must be a non-empty array of objects, got ${got}: expected ${EXPECTED_BODY}`);
  }
  return instances.map((instance: unknown, i) => {
    if (!isPlainObject(instance)) {
      fail(`instances[${i}] must be an object mapping input names to values, got ${describe(instance)}`);
    }
    const names = Object.keys(instance);
    if (names.length === 0) fail(`instances[${i}] has no inputs: expected {"<input>": value, ...}`);
    return names.map((name) => toTensor(`instances[${i}].${name}`, name, instance[name]));
  });
}

function missingInstances(keys: readonly string[]): string {
  const near = keys.find(
    (k) => k.toLowerCase() === 'instances' || editDistance(k.toLowerCase(), 'instances') <= 3,
  );
  if (near !== undefined) return `body has no "instances" key; found "${near}": did you mean "instances"?`;
  const found =
    keys.length === 0
      ? 'an empty object'
      : `keys ${keys
          .slice(0, 5)
          .map((k) => `"${k}"`)
          .join(', ')}`;
  return `body has no "instances" key (found ${found}): expected ${EXPECTED_BODY}`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** One instance value as a tensor named `name`; errors name the input. */
export function instanceValueToTensor(name: string, value: unknown): NamedTensor {
  return toTensor(name, name, value);
}

function toTensor(where: string, name: string, value: unknown): NamedTensor {
  if (typeof value === 'number') return { name, type: 'FP32', shape: [1], data: Float32Array.of(value) };
  if (typeof value === 'string') return { name, type: 'BYTES', shape: [1], data: [value] };
  if (Array.isArray(value)) return { name, ...denseFromNested(where, value) };
  if (value instanceof NestedNumbers) {
    checkDenseShape(value.shape, where);
    return { name, type: 'FP32', shape: value.shape, data: value.data };
  }
  if (isPlainObject(value)) return { name, ...denseFromSparse(where, value) };
  return fail(
    `${where}: expected a number, nested arrays of numbers, a string or a sparse tensor ${SPARSE_FORM}, got ${describe(value)}`,
  );
}

function denseFromNested(
  where: string,
  value: unknown[],
): { type: 'FP32'; shape: number[]; data: Float32Array } {
  const shape: number[] = [];
  let probe: unknown = value;
  while (Array.isArray(probe)) {
    if (shape.length === MAX_NESTING) fail(`${where}: arrays are nested deeper than ${MAX_NESTING} levels`);
    shape.push(probe.length);
    probe = probe[0];
  }
  const data = new Float32Array(checkDenseShape(shape, where));
  let k = 0;
  const fill = (node: unknown[], depth: number, path: string): void => {
    if (node.length !== shape[depth]) {
      fail(
        `${where}: nested arrays are ragged at depth ${depth} (expected ${shape[depth]} elements, got ${node.length})`,
      );
    }
    const leaf = depth === shape.length - 1;
    for (let i = 0; i < node.length; i++) {
      const element = node[i];
      if (leaf) {
        if (typeof element !== 'number') {
          const why = Array.isArray(element) ? 'nested arrays are ragged' : 'nested arrays must hold numbers';
          fail(`${where}: ${why}: element ${path}[${i}] is ${describe(element)}, expected a number`);
        }
        data[k++] = element;
      } else if (Array.isArray(element)) {
        fill(element, depth + 1, `${path}[${i}]`);
      } else {
        fail(
          `${where}: nested arrays are ragged at depth ${depth + 1} (expected ${shape[depth + 1]} elements, got ${describe(element)} at ${path}[${i}])`,
        );
      }
    }
  };
  fill(value, 0, '');
  return { type: 'FP32', shape, data };
}

function numbersOf(where: string, key: string, value: unknown): number[] {
  if (!Array.isArray(value))
    fail(`${where}: sparse "${key}" must be an array of numbers, got ${describe(value)}`);
  const bad = value.findIndex((v) => typeof v !== 'number');
  if (bad >= 0) fail(`${where}: sparse "${key}"[${bad}] is ${describe(value[bad])}, expected a number`);
  return value as number[];
}

function denseFromSparse(
  where: string,
  value: Record<string, unknown>,
): { type: 'FP32'; shape: number[]; data: Float32Array } {
  const unknown = Object.keys(value).filter((k) => k !== 'shape' && k !== 'data' && k !== 'indices');
  const missing = ['shape', 'data', 'indices'].filter((k) => !Object.hasOwn(value, k));
  if (unknown.length > 0 || missing.length > 0) {
    const problems = [
      ...missing.map((k) => `"${k}" is missing`),
      ...unknown.map((k) => `"${k}" is not a sparse tensor key`),
    ];
    fail(`${where}: ${problems.join(', ')}; a sparse tensor is ${SPARSE_FORM}`);
  }
  const shape = numbersOf(where, 'shape', value['shape']);
  const data = numbersOf(where, 'data', value['data']);
  const indices = value['indices'];
  if (!Array.isArray(indices) || indices.length !== shape.length) {
    const got = Array.isArray(indices) ? `${indices.length} rows` : describe(indices);
    fail(
      `${where}: sparse "indices" must hold one row of coordinates per dim (${shape.length} rows for shape [${shape.join(',')}]), got ${got}`,
    );
  }
  const flat: number[] = [];
  indices.forEach((row: unknown, d) => {
    const coords = numbersOf(where, `indices[${d}]`, row);
    if (coords.length !== data.length) {
      fail(
        `${where}: sparse "indices"[${d}] holds ${coords.length} coordinates, "data" holds ${data.length} values (one row per dim, one coordinate per value)`,
      );
    }
    for (const c of coords) flat.push(c);
  });
  return { type: 'FP32', shape, data: cooToDense(shape, flat, data, where) };
}
