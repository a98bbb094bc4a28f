import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { dump } from 'js-yaml';
import { forkEntry, type ChildMessage, type ForkedProcess } from './child-process.js';
import { waitFor } from './wait-for.js';

export const WORKER_ENTRY = resolve(import.meta.dirname, '../../dist/worker/main.js');

/** Writes config.yaml into a fresh temp dir and returns its path. */
export async function writeConfig(values: Record<string, unknown>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cs-config-'));
  const path = join(dir, 'config.yaml');
  await writeFile(path, dump(values));
  return path;
}

export type WorkerMessage = ChildMessage;

export interface WorkerProcess extends ForkedProcess {
  readonly consumer: string;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
  kill(): Promise<void>;
}

/** Starts `dist/worker/main.js` with an IPC channel and waits until it reports ready. */
export async function startWorker(
  configPath: string,
  extraArgs: readonly string[] = [],
): Promise<WorkerProcess> {
  const { child, messages, exited, stderr } = forkEntry(WORKER_ENTRY, ['--config', configPath, ...extraArgs]);
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  const ready = await waitFor(
    () => {
      if (exitCode !== undefined) throw new Error(`worker exited with ${exitCode}: ${stderr()}`);
      return messages.find((m) => m.type === 'state' && m.state === 'ready');
    },
    { timeoutMs: 30_000, what: 'worker ready' },
  );
  return {
    child,
    messages,
    consumer: ready.consumer ?? '',
    exited,
    stderr,
    async stop(): Promise<number | null> {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    async kill(): Promise<void> {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
