import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogFollower } from '../../../src/cli/log-reader.js';
import { silentLogger } from '../../../src/logging/logger.js';
import { homePaths } from '../../../src/supervisor/home.js';
import { hostSupervisor } from '../../../src/supervisor/host.js';
import { rotateIfLarge, rotateLogs } from '../../../src/supervisor/log-rotation.js';
import { waitFor } from '../../helpers/wait-for.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cs-rotate-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const rotation = { maxBytes: 100, keep: 2 };

describe('log rotation', () => {
  it('leaves a file within its size alone', async () => {
    const file = join(dir, 'w.log');
    await writeFile(file, 'x'.repeat(100));
    expect(await rotateIfLarge(file, rotation)).toBe(false);
    expect((await stat(file)).size).toBe(100);
    expect(existsSync(`${file}.1`)).toBe(false);
  });

  it('copies a large file to .1, empties it, and a writer appending to it goes on at its start', async () => {
    const file = join(dir, 'w.log');
    // Opened for appending, as every process opens its log.
    const writer = openSync(file, 'a');
    try {
      writeSync(writer, 'first\n'.repeat(30));
      expect(await rotateIfLarge(file, rotation)).toBe(true);
      writeSync(writer, 'after\n');
      expect(await readFile(file, 'utf8')).toBe('after\n');
      expect(await readFile(`${file}.1`, 'utf8')).toBe('first\n'.repeat(30));
    } finally {
      closeSync(writer);
    }
  });

  it('keeps `keep` older copies, newest first, and drops the oldest', async () => {
    const file = join(dir, 'w.log');
    for (const round of ['a', 'b', 'c', 'd']) {
      await writeFile(file, round.repeat(200));
      expect(await rotateIfLarge(file, rotation)).toBe(true);
    }
    expect(await readFile(`${file}.1`, 'utf8')).toBe('d'.repeat(200));
    expect(await readFile(`${file}.2`, 'utf8')).toBe('c'.repeat(200));
    expect(existsSync(`${file}.3`)).toBe(false);
  });

  it('rotates the .log files of a directory and nothing else', async () => {
    await writeFile(join(dir, 'big.log'), 'x'.repeat(500));
    await writeFile(join(dir, 'small.log'), 'x');
    await writeFile(join(dir, 'big.log.1'), 'y'.repeat(500));
    await writeFile(join(dir, 'notes.txt'), 'z'.repeat(500));
    expect(await rotateLogs(dir, rotation)).toEqual(['big.log']);
    expect((await stat(join(dir, 'notes.txt'))).size).toBe(500);
    expect(await readFile(join(dir, 'big.log.2'), 'utf8')).toBe('y'.repeat(500));
  });

  it('the supervisor rotates its home’s logs as they grow', async () => {
    const paths = homePaths(join(dir, 'home'));
    const host = await hostSupervisor({
      paths,
      logger: silentLogger(),
      marker: 'vitest',
      onShutdownRequested: () => undefined,
      logRotation: { ...rotation, intervalMs: 20 },
    });
    if (host === undefined) throw new Error('another supervisor owns the fresh test home');
    try {
      const file = join(paths.logsDir, 'job-0a1b2c3d.worker-1.log');
      await writeFile(file, 'line\n'.repeat(100));
      await waitFor(() => (existsSync(`${file}.1`) ? true : undefined), { what: 'the log to be rotated' });
      expect(await readFile(`${file}.1`, 'utf8')).toBe('line\n'.repeat(100));
    } finally {
      await host.close();
    }
  });

  it('`logs --follow` reads on from the start of a rotated file', async () => {
    const file = join(dir, 'w.log');
    const line = (msg: string, time: number): string => `${JSON.stringify({ level: 30, time, msg })}\n`;
    await writeFile(file, line('before', 1) + line('more', 2));
    const follower = new LogFollower([{ file, label: 'worker-1' }]);
    expect((await follower.readNew()).map((l) => l.text)).toEqual(['INFO  before', 'INFO  more']);
    await truncate(file, 0);
    await writeFile(file, line('after', 3), { flag: 'a' });
    expect((await follower.readNew()).map((l) => l.text)).toEqual(['INFO  after']);
  });
});
