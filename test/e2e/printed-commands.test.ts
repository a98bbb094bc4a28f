import { spawn } from 'node:child_process';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeModel } from '../fixtures/onnx-models.js';
import { BIN, CliHarness, type CliResult } from '../helpers/cli.js';
import { freePort } from '../helpers/redis-server.js';

let cli: CliHarness;

beforeEach(async () => {
  cli = await CliHarness.create();
});

afterEach(async () => {
  await cli.cleanup();
});

/** Runs a line through sh with `cluster-serving` on PATH, as a user pastes it. */
async function shell(line: string, cwd: string): Promise<CliResult> {
  const bin = join(cli.root, 'bin');
  await mkdir(bin, { recursive: true });
  await symlink(BIN, join(bin, 'cluster-serving')).catch(() => undefined);
  const child = spawn('sh', ['-c', line], {
    cwd,
    env: cli.env({ PATH: `${bin}:${process.env['PATH'] ?? ''}` }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) =>
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr })),
  );
}

describe('commands the CLI prints run as printed', { timeout: 240_000 }, () => {
  it("init's next command, for a project folder whose path has a space and a quote", async () => {
    const dir = join(cli.root, "ana's model");
    const init = await cli.run(['init', dir]);
    expect(init.code, init.stderr).toBe(0);
    const line = /then run: (.+)$/m.exec(init.stderr)?.[1];
    expect(line, init.stderr).toMatch(/^cluster-serving start -c '/);

    const config = join(dir, 'config.yaml');
    const model = await writeModel(join(cli.root, 'models'), 'mlp');
    const redisPort = await freePort();
    const template = await readFile(config, 'utf8');
    await writeFile(
      config,
      `${template
        .replace(/^modelPath:.*$/m, `modelPath: ${model}`)
        .replace(/^redisUrl:.*$/m, `redisUrl: localhost:${redisPort}`)
        .replace(/^modelParallelism:.*$/m, 'modelParallelism: 1')}`,
    );
    const started = await shell(line ?? 'false', cli.root);
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).toMatch(/is serving/);

    const stopLine = /^stop it:\s+(.+)$/m.exec(started.stdout)?.[1];
    const stopped = await shell(stopLine ?? 'false', cli.root);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toMatch(/^stopped /);
  });
});
