import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CliHarness } from '../helpers/cli.js';

let cli: CliHarness;

beforeEach(async () => {
  cli = await CliHarness.create();
});

afterEach(async () => {
  await cli.cleanup();
});

interface JsonError {
  error: { code: string; message: string };
}

function jsonError(stdout: string): JsonError {
  const lines = stdout.trim().split('\n');
  expect(lines, 'one JSON object on stdout').toHaveLength(1);
  return JSON.parse(lines[0] ?? '') as JsonError;
}

describe('usage errors and --json failures', { timeout: 60_000 }, () => {
  it.each([
    [['stop'], "missing required argument 'job'", 'cluster-serving stop --help'],
    [['frob'], "unknown command 'frob'", 'cluster-serving --help'],
    [['list', '--bogus'], "unknown option '--bogus'", 'cluster-serving list --help'],
    [['start', '--timeout', 'soon'], '--timeout expects a positive number of seconds', ''],
    [[], 'no command given', 'cluster-serving --help'],
  ])('cluster-serving %j ends with CS_ERR_CLI_USAGE, exit 2', async (args, said, help) => {
    const result = await cli.run(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    const last = result.stderr.trim().split('\n').at(-1) ?? '';
    expect(last).toMatch(/^cluster-serving: .*\[CS_ERR_CLI_USAGE\]$/);
    expect(last).toContain(said);
    expect(last).toContain(help);
  });

  it('names the alias the user typed', async () => {
    const result = await cli.run(['--frob'], { bin: 'cluster-serving-start.js' });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(
      "cluster-serving-start: unknown option '--frob' (see cluster-serving-start --help) [CS_ERR_CLI_USAGE]",
    );
  });

  it('prints a usage error as JSON on stdout with --json', async () => {
    const result = await cli.run(['stop', '--json']);
    expect(result.code).toBe(2);
    expect(jsonError(result.stdout)).toEqual({
      error: {
        code: 'CS_ERR_CLI_USAGE',
        message: "missing required argument 'job' (see cluster-serving stop --help)",
      },
    });
    expect(result.stderr).toContain('[CS_ERR_CLI_USAGE]');
  });

  it('prints every other failure as JSON on stdout with --json, with its own code and exit', async () => {
    const missing = await cli.run(['start', '-c', join(cli.root, 'nowhere.yaml'), '--json']);
    expect(missing.code).toBe(2);
    expect(jsonError(missing.stdout).error.code).toBe('CS_ERR_CONFIG_NOT_FOUND');
    expect(jsonError(missing.stdout).error.message).toContain('nowhere.yaml');

    const bad = await cli.project('bad', { modelParallelism: 'many' });
    const invalid = await cli.run(['start', '-c', bad, '--json']);
    expect(invalid.code).toBe(2);
    expect(jsonError(invalid.stdout).error.code).toBe('CS_ERR_CONFIG_INVALID');

    const none = await cli.run(['cancel', 'ghost', '--json']);
    expect(none.code).toBe(1);
    expect(jsonError(none.stdout).error).toMatchObject({ code: 'CS_ERR_JOB_NOT_FOUND' });
    expect(none.stderr).toContain('[CS_ERR_JOB_NOT_FOUND]');
  });

  it('keeps stdout empty on failure without --json', async () => {
    const none = await cli.run(['cancel', 'ghost']);
    expect(none.code).toBe(1);
    expect(none.stdout).toBe('');
    expect(none.stderr).toContain('[CS_ERR_JOB_NOT_FOUND]');
  });
});
