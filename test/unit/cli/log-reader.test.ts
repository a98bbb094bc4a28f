import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatLogLine, LogFollower, parseLine } from '../../../src/cli/log-reader.js';

describe('log reader', () => {
  it('turns pino JSON into a readable line and keeps other lines as they are', () => {
    const parsed = parseLine(
      JSON.stringify({
        level: 50,
        time: 1000,
        pid: 3,
        msg: 'batch failed',
        job: 'j',
        err: { message: 'boom' },
      }),
    );
    expect(parsed).toEqual({ time: 1000, text: 'ERROR batch failed err="boom"' });
    expect(parseLine('Error: plain stderr')).toEqual({ time: undefined, text: 'Error: plain stderr' });
    expect(parseLine('{not json')).toEqual({ time: undefined, text: '{not json' });
    expect(
      formatLogLine({ label: 'worker-1', time: Date.UTC(2026, 0, 1, 10, 20, 30, 456), text: 'INFO  hi' }),
    ).toBe('10:20:30.456 worker-1  INFO  hi');
  });

  it('merges files by time and then reads only what was appended', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cs-logs-'));
    try {
      const a = join(dir, 'a.log');
      const b = join(dir, 'b.log');
      await writeFile(
        a,
        `${JSON.stringify({ level: 30, time: 10, msg: 'a1' })}\n${JSON.stringify({ level: 30, time: 30, msg: 'a2' })}\n`,
      );
      await writeFile(
        b,
        `${JSON.stringify({ level: 30, time: 20, msg: 'b1' })}\nstack line\n{"level":30,"time":40,"msg":"partial`,
      );
      const follower = new LogFollower([
        { file: a, label: 'a' },
        { file: b, label: 'b' },
      ]);
      expect((await follower.readNew()).map((l) => `${l.label}:${l.text}`)).toEqual([
        'a:INFO  a1',
        'b:INFO  b1',
        'b:stack line',
        'a:INFO  a2',
      ]);
      await appendFile(b, '"}\n');
      expect((await follower.readNew()).map((l) => l.text)).toEqual(['INFO  partial']);
      expect(await follower.readNew()).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
