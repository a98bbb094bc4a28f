import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeModel } from '../fixtures/onnx-models.js';
import { CliHarness, type CliResult } from '../helpers/cli.js';
import { freePort } from '../helpers/redis-server.js';

let cli: CliHarness;
let redisPort: number;

beforeEach(async () => {
  cli = await CliHarness.create();
  redisPort = await freePort();
});

afterEach(async () => {
  await cli.cleanup();
});

async function project(dir: string, jobName: string, extraYaml = ''): Promise<string> {
  const model = await writeModel(join(cli.root, 'models'), 'mlp');
  return cli.project(
    dir,
    { jobName, redisUrl: `localhost:${redisPort}`, redisMaxmemory: '256mb', modelParallelism: 1 },
    model,
    extraYaml,
  );
}

/** The command after `label:` in start's output, checked to be one. */
function printedCommand(stdout: string, label: string): string {
  const line = new RegExp(`^${label}:\\s+(.+)$`, 'm').exec(stdout)?.[1];
  if (line === undefined) throw new Error(`start printed no "${label}:" line:\n${stdout}`);
  return line;
}

/** Runs a `cluster-serving ...` line as printed (through the harness's home and binary). */
function runPrinted(line: string): Promise<CliResult> {
  const [command, ...args] = line.split(/\s+/);
  expect(command).toBe('cluster-serving');
  return cli.run(args);
}

/** Runs a `curl ...` line as printed. */
function runCurl(line: string): Promise<CliResult> {
  const [command, ...args] = line.split(/\s+/);
  expect(command).toBe('curl');
  const child = spawn('curl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) =>
    child.once('exit', (code) => resolve({ code: code ?? -1, stdout, stderr })),
  );
}

describe('what start says it started', { timeout: 240_000 }, () => {
  it('says there is no HTTP frontend, and how to get one, when config.yaml has no http: section', async () => {
    const path = await project('plain', 'no_http');
    const started = await cli.run(['start', '-c', path, '--timeout', '180']);
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).toMatch(
      /^ {2}http: +none \(no HTTP frontend: add an http: section to config\.yaml to serve on 10020\)$/m,
    );
    expect(started.stdout).toMatch(/^ {2}dashboard: +none \(CLUSTER_SERVING_DASHBOARD is off/m);
    expect(started.stdout).not.toContain('curl');

    const seen = await runPrinted(printedCommand(started.stdout, 'see it'));
    expect(seen.code, seen.stderr).toBe(0);
    expect(seen.stdout).toMatch(/no_http\s+running/);
    const cancelled = await runPrinted(printedCommand(started.stdout, 'stop it now'));
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(cancelled.stdout).toContain('cancelled no_http');
  });

  it('prints a frontend on 0.0.0.0 as bound there and reachable through the loopback; the printed commands run', async () => {
    const httpPort = await freePort();
    const path = await project('wild', 'wildcard', `http:\n  interface: 0.0.0.0\n  port: ${httpPort}\n`);
    const started = await cli.run(['start', '-c', path, '--timeout', '180']);
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).toContain(
      `  http:      http://0.0.0.0:${httpPort} (reachable at http://127.0.0.1:${httpPort} and this host's addresses)\n`,
    );

    const inputs = await runCurl(printedCommand(started.stdout, 'model inputs'));
    expect(inputs.code, inputs.stderr).toBe(0);
    expect(JSON.parse(inputs.stdout)).toMatchObject({ name: 'wildcard', inputs: [{ name: 'input' }] });

    const listed = await cli.run(['list', '--json']);
    expect(JSON.parse(listed.stdout)).toMatchObject({
      jobs: [
        { name: 'wildcard', http: `http://127.0.0.1:${httpPort}`, httpBound: `http://0.0.0.0:${httpPort}` },
      ],
    });
    const table = await runPrinted(printedCommand(started.stdout, 'see it'));
    expect(table.stdout).toMatch(new RegExp(`wildcard\\s+running.*http://0\\.0\\.0\\.0:${httpPort}`));

    const stopped = await runPrinted(printedCommand(started.stdout, 'stop it'));
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toContain('stopped wildcard');
  });

  it('prints a frontend on the loopback as it is', async () => {
    const httpPort = await freePort();
    const path = await project('local', 'loopback', `http:\n  interface: 127.0.0.1\n  port: ${httpPort}\n`);
    const started = await cli.run(['start', '-c', path, '--timeout', '180', '--json']);
    expect(started.code, started.stderr).toBe(0);
    expect(JSON.parse(started.stdout)).toMatchObject({
      http: `http://127.0.0.1:${httpPort}`,
      httpBound: `http://127.0.0.1:${httpPort}`,
    });
  });
});
