import { fork, type ChildProcess } from 'node:child_process';
import { SERVING_NODE_FLAGS } from '../../src/supervisor/node-flags.js';

/** What a forked process reports over IPC: its state, a fatal error, the url it listens on. */
export interface ChildMessage {
  readonly type: string;
  readonly state?: string;
  readonly consumer?: string;
  readonly url?: string;
  readonly code?: string;
  readonly message?: string;
}

export interface ForkedProcess {
  readonly child: ChildProcess;
  readonly messages: ChildMessage[];
  readonly exited: Promise<number | null>;
  stderr(): string;
}

/**
 * `node <entry> <args>` with an IPC channel, the supervisor's Node.js flags and no test-runner
 * loaders, as the supervisor runs built JavaScript; collects its messages and stderr.
 */
export function forkEntry(entry: string, args: readonly string[]): ForkedProcess {
  const child = fork(entry, [...args], {
    execArgv: [...SERVING_NODE_FLAGS],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: { ...process.env, CLUSTER_SERVING_LOG_LEVEL: 'warn' },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const messages: ChildMessage[] = [];
  child.on('message', (m: ChildMessage) => messages.push(m));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, messages, exited, stderr: () => stderr };
}
