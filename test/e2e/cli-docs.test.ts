import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JOB_STATES } from '../../src/supervisor/job-record.js';
import { CliHarness } from '../helpers/cli.js';

let cli: CliHarness;

beforeEach(async () => {
  cli = await CliHarness.create();
});

afterEach(async () => {
  await cli.cleanup();
});

describe('docs/cli.md, the CLI reference', () => {
  it('documents every command the binary has, and every job state', async () => {
    const help = await cli.run(['--help']);
    expect(help.code).toBe(0);
    const commands = [...help.stdout.matchAll(/^ {2}([a-z]+) /gm)]
      .map((match) => match[1] ?? '')
      .filter((name) => name !== 'help');
    expect(commands).toContain('clear');
    const doc = await readFile(new URL('../../docs/cli.md', import.meta.url), 'utf8');
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    for (const name of commands) {
      expect(doc, `docs/cli.md: cluster-serving ${name}`).toMatch(
        new RegExp(`^\\| \`cluster-serving ${name}\\b`, 'm'),
      );
      expect(readme, `README.md: cluster-serving ${name}`).toMatch(
        new RegExp(`^\\| \`cluster-serving ${name}\\b`, 'm'),
      );
    }
    for (const state of JOB_STATES) expect(doc).toMatch(new RegExp(`^\\| \`${state}\` +\\|`, 'm'));
  });
});
