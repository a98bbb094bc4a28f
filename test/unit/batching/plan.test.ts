import { describe, expect, it } from 'vitest';
import { planRuns, type BatchPlanItem } from '../../../src/batching/plan.js';
import { CsError } from '../../../src/errors/registry.js';

interface Rec {
  readonly id: string;
  readonly key: string;
}

/** "a1:K:2" → record a1 with key K and 2 rows. */
function items(spec: string): BatchPlanItem<Rec>[] {
  return spec
    .split(' ')
    .filter((s) => s !== '')
    .map((s) => {
      const [id = '', key = '', rows = ''] = s.split(':');
      return { record: { id, key }, rows: Number(rows) };
    });
}

function plan(spec: string, maxRows: number): string[][] {
  return planRuns(items(spec), (r) => r.key, maxRows).map((run) => run.map((r) => r.id));
}

describe('planRuns', () => {
  it('puts records with one key into one run while they fit', () => {
    expect(plan('a:K:1 b:K:1 c:K:1', 8)).toEqual([['a', 'b', 'c']]);
  });

  it('groups by key, groups ordered by first arrival, arrival order kept inside a group', () => {
    expect(plan('a:X:1 b:Y:1 c:X:1 d:Z:1 e:Y:1 f:X:1', 8)).toEqual([['a', 'c', 'f'], ['b', 'e'], ['d']]);
  });

  it('cuts a group when the next record would pass maxRows', () => {
    expect(plan('a:K:2 b:K:2 c:K:1 d:K:1 e:K:3', 4)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(plan('a:K:1 b:K:1 c:K:1 d:K:1 e:K:1', 2)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('fills a run exactly to maxRows', () => {
    expect(plan('a:K:3 b:K:1 c:K:1', 4)).toEqual([['a', 'b'], ['c']]);
  });

  it('does not reorder to pack better: a later small record does not jump ahead', () => {
    expect(plan('a:K:3 b:K:3 c:K:1', 4)).toEqual([['a'], ['b', 'c']]);
  });

  it('runs a record larger than maxRows alone, without breaking the runs around it', () => {
    expect(plan('a:K:1 b:K:9 c:K:1 d:K:1', 4)).toEqual([['a'], ['b'], ['c', 'd']]);
    expect(plan('b:K:9', 4)).toEqual([['b']]);
    expect(plan('a:K:5 b:K:6', 4)).toEqual([['a'], ['b']]);
  });

  it('cuts each group on its own count of rows', () => {
    expect(plan('a:X:2 b:Y:2 c:X:2 d:Y:1 e:X:1 f:Y:2', 4)).toEqual([['a', 'c'], ['e'], ['b', 'd'], ['f']]);
  });

  it('with maxRows 1 gives every record its own run, in group order', () => {
    expect(plan('a:X:1 b:Y:1 c:X:1', 1)).toEqual([['a'], ['c'], ['b']]);
  });

  it('lets zero-row records join the current run', () => {
    expect(plan('a:K:2 b:K:0 c:K:2 d:K:0', 2)).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    expect(plan('a:K:0', 1)).toEqual([['a']]);
  });

  it('returns no runs for no records and keeps every record exactly once', () => {
    expect(plan('', 4)).toEqual([]);
    const spec = Array.from({ length: 50 }, (_, i) => `r${i}:${'ABC'[i % 3]}:${(i * 7) % 5}`).join(' ');
    const runs = plan(spec, 6);
    expect(runs.flat().sort()).toEqual(
      items(spec)
        .map((it) => it.record.id)
        .sort(),
    );
    for (const run of runs) {
      const rows = run.map((id) => items(spec).find((it) => it.record.id === id)?.rows ?? 0);
      if (run.length > 1) expect(rows.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(6);
    }
  });

  it('calls keyOf with the record itself', () => {
    const seen: Rec[] = [];
    const input = items('a:K:1 b:L:1');
    planRuns(input, (r) => (seen.push(r), r.key), 4);
    expect(seen).toEqual(input.map((it) => it.record));
    expect(seen[0]).toBe(input[0]?.record);
  });

  it('refuses a maxRows that is not a whole number ≥ 1', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => plan('a:K:1', bad)).toThrow(CsError);
    }
  });

  it('refuses negative or fractional row counts', () => {
    expect(() => plan('a:K:-1', 4)).toThrow(/row count must be a whole number/);
    expect(() => plan('a:K:1.5', 4)).toThrow(CsError);
  });
});
