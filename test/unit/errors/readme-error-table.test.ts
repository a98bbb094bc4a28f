import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS, isErrorCode } from '../../../src/errors/registry.js';

const README = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

interface Row {
  readonly code: string;
  readonly exit: number;
  readonly http: number;
  readonly meaning: string;
}

/** The rows of the table under `## Error codes`, up to the next heading. */
function errorTable(markdown: string): Row[] {
  const start = markdown.indexOf('\n## Error codes\n');
  if (start < 0) throw new Error('README.md has no "## Error codes" section');
  const end = markdown.indexOf('\n## ', start + 1);
  const section = markdown.slice(start, end < 0 ? undefined : end);
  return section
    .split('\n')
    .filter((line) => /^\|\s*`CS_ERR_/.test(line))
    .map((line) => {
      const [code = '', exit = '', http = '', meaning = ''] = line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim());
      return { code: code.replace(/`/g, ''), exit: Number(exit), http: Number(http), meaning };
    });
}

describe("README's error-code table", () => {
  const rows = errorTable(README);

  it('lists every code of the registry once, and nothing else', () => {
    const listed = rows.map((row) => row.code);
    expect(new Set(listed).size, 'a code is listed twice').toBe(listed.length);
    expect([...listed].sort()).toEqual(Object.keys(ERRORS).sort());
  });

  it("gives each code the registry's exit code, HTTP status and summary", () => {
    const problems: string[] = [];
    for (const row of rows) {
      if (!isErrorCode(row.code)) continue;
      const entry = ERRORS[row.code];
      if (row.exit !== entry.exitCode)
        problems.push(`${row.code}: exit ${row.exit}, registry ${entry.exitCode}`);
      if (row.http !== entry.httpStatus)
        problems.push(`${row.code}: HTTP ${row.http}, registry ${entry.httpStatus}`);
      // One wording: the registry's summary, optionally followed by a note in parentheses.
      const note = row.meaning.slice(entry.summary.length);
      if (!row.meaning.startsWith(entry.summary) || !(note === '' || /^ \(.+\)$/.test(note)))
        problems.push(`${row.code}: "${row.meaning}", registry "${entry.summary}"`);
    }
    expect(problems).toEqual([]);
  });
});
