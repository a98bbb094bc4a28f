import { open, stat } from 'node:fs/promises';

export interface LogSource {
  readonly file: string;
  /** Shown before each line, e.g. `worker-1`. */
  readonly label: string;
}

export interface LogLine {
  readonly label: string;
  /** Epoch ms; lines without a time (raw stderr) take the time of the line before. */
  readonly time: number;
  readonly text: string;
}

const LEVELS: Readonly<Record<number, string>> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const OMITTED = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'component', 'job', 'jobId', 'v']);

/** Reads what was appended to each file since the last call, merged by time. */
export class LogFollower {
  private readonly offsets = new Map<string, number>();
  private readonly partial = new Map<string, string>();

  constructor(private readonly sources: readonly LogSource[]) {}

  async readNew(): Promise<LogLine[]> {
    const lines: LogLine[] = [];
    for (const source of this.sources) lines.push(...(await this.readSource(source)));
    // Stable sort keeps each file's order among lines with equal times.
    return lines.sort((a, b) => a.time - b.time);
  }

  private async readSource(source: LogSource): Promise<LogLine[]> {
    let size: number;
    try {
      size = (await stat(source.file)).size;
    } catch {
      return [];
    }
    let offset = this.offsets.get(source.file) ?? 0;
    if (size < offset) {
      // Rotated (copied away and emptied): what follows starts at the beginning again.
      offset = 0;
      this.partial.delete(source.file);
    }
    if (size <= offset) return [];
    const handle = await open(source.file, 'r');
    let text: string;
    try {
      const buffer = Buffer.alloc(size - offset);
      await handle.read(buffer, 0, buffer.length, offset);
      text = (this.partial.get(source.file) ?? '') + buffer.toString('utf8');
    } finally {
      await handle.close();
    }
    this.offsets.set(source.file, size);
    const parts = text.split('\n');
    this.partial.set(source.file, parts.pop() ?? '');
    const lines: LogLine[] = [];
    let time = 0;
    for (const raw of parts) {
      if (raw.trim() === '') continue;
      const parsed = parseLine(raw);
      time = parsed.time ?? time;
      lines.push({ label: source.label, time, text: parsed.text });
    }
    return lines;
  }
}

export function parseLine(raw: string): { time: number | undefined; text: string } {
  if (!raw.startsWith('{')) return { time: undefined, text: raw };
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { time: undefined, text: raw };
  }
  if (typeof value !== 'object' || value === null) return { time: undefined, text: raw };
  const record = value as Record<string, unknown>;
  const time = typeof record['time'] === 'number' ? record['time'] : undefined;
  const level =
    typeof record['level'] === 'number' ? (LEVELS[record['level']] ?? String(record['level'])) : 'INFO';
  const msg = typeof record['msg'] === 'string' ? record['msg'] : '';
  const extras = Object.entries(record)
    .filter(([key]) => !OMITTED.has(key))
    .map(([key, v]) => `${key}=${extraValue(v)}`);
  return { time, text: [level.padEnd(5), msg, ...extras].filter((part) => part !== '').join(' ') };
}

function extraValue(value: unknown): string {
  if (
    typeof value === 'object' &&
    value !== null &&
    'message' in value &&
    typeof value.message === 'string'
  ) {
    return JSON.stringify(value.message);
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function formatLogLine(line: LogLine): string {
  const time = line.time === 0 ? '--:--:--.---' : new Date(line.time).toISOString().slice(11, 23);
  return `${time} ${line.label.padEnd(9)} ${line.text}`;
}
