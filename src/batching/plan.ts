import { CsError } from '../errors/registry.js';

export interface BatchPlanItem<T> {
  readonly record: T;
  /** Rows the record adds to a run (its dim 0). */
  readonly rows: number;
}

/**
 * Splits what was read into model runs: records are grouped by key (only equal keys can
 * share a run), keep their arrival order within a group, and each group is cut greedily into
 * runs of at most `maxRows` rows. A record larger than `maxRows` runs alone rather than
 * being refused: the limit bounds how much is stacked, not what one caller may send.
 * Runs come out group by group, groups ordered by the arrival of their first record.
 */
export function planRuns<T>(
  items: readonly BatchPlanItem<T>[],
  keyOf: (record: T) => string,
  maxRows: number,
): T[][] {
  if (!Number.isInteger(maxRows) || maxRows < 1) {
    throw new CsError('CS_ERR_INTERNAL', `maxRows must be a whole number ≥ 1; got ${maxRows}`);
  }
  // Map iteration follows insertion order, which is the arrival of each group's first record.
  const groups = new Map<string, { runs: T[][]; rows: number }>();
  for (const { record, rows } of items) {
    if (!Number.isInteger(rows) || rows < 0) {
      throw new CsError('CS_ERR_INTERNAL', `a record's row count must be a whole number ≥ 0; got ${rows}`);
    }
    const key = keyOf(record);
    let group = groups.get(key);
    if (group === undefined) {
      group = { runs: [[]], rows: 0 };
      groups.set(key, group);
    }
    let run = group.runs[group.runs.length - 1] ?? [];
    if (run.length > 0 && group.rows + rows > maxRows) {
      run = [];
      group.runs.push(run);
      group.rows = 0;
    }
    run.push(record);
    group.rows += rows;
  }
  return [...groups.values()].flatMap((g) => g.runs);
}
