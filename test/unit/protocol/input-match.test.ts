import { describe, expect, it } from 'vitest';
import { matchInputs } from '../../../src/protocol/input-match.js';
import type { TensorSpec } from '../../../src/protocol/model-metadata.js';

const SPECS: TensorSpec[] = [
  { name: 'a', datatype: 'FP32', shape: [-1, 4] },
  { name: 'b', datatype: 'INT64', shape: [-1, 2] },
];
const t = (name: string): { name: string } => ({ name });

describe('matchInputs', () => {
  it('maps by name, in the model order, when every tensor is named after an input', () => {
    expect(matchInputs([t('b'), t('a')], SPECS)).toEqual({
      ok: true,
      byName: true,
      tensors: [t('a'), t('b')],
    });
  });

  it('maps by position when a name is not an input name', () => {
    expect(matchInputs([t('x'), t('a')], SPECS)).toEqual({
      ok: true,
      byName: false,
      tensors: [t('x'), t('a')],
    });
    expect(matchInputs([t('x')], SPECS)).toEqual({ ok: false, problem: 'count' });
    expect(matchInputs([], SPECS)).toEqual({ ok: false, problem: 'count' });
  });

  it('names the inputs that have no tensor, also when a name is given twice', () => {
    expect(matchInputs([t('a')], SPECS)).toEqual({ ok: false, problem: 'missing', missing: ['b'] });
    expect(matchInputs([t('a'), t('a')], SPECS)).toEqual({ ok: false, problem: 'missing', missing: ['b'] });
  });
});
