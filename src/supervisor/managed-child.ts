import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync } from 'node:fs';
import type { ParentMessage } from '../contracts/child-ipc.js';
import { openPrivateLog } from './home.js';
import { processStartTime, signalTree } from './process-identity.js';

export interface ChildSpec {
  readonly command: string;
  readonly args: readonly string[];
  /** stdout and stderr are appended here, next to the JSON lines the child logs itself. */
  readonly logFile: string;
  /** Open an IPC channel (our worker and frontend entries report their state over it). */
  readonly ipc: boolean;
  readonly env?: NodeJS.ProcessEnv;
}

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/**
 * One spawned process. It leads its own process group, so a terminal's Ctrl-C reaches only
 * the supervisor (which then stops children in order) and `terminate` also reaches anything
 * the child started.
 */
export class ManagedChild {
  readonly pid: number;
  readonly startTime: string | null;
  readonly exited: Promise<ChildExit>;
  private exit: ChildExit | undefined;

  private constructor(private readonly child: ChildProcess) {
    this.pid = child.pid ?? 0;
    this.startTime = processStartTime(this.pid);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  /** Resolves once the process runs; rejects when it could not be started (e.g. ENOENT). */
  static async spawn(spec: ChildSpec): Promise<ManagedChild> {
    const fd = openPrivateLog(spec.logFile);
    let child: ChildProcess;
    try {
      child = spawn(spec.command, [...spec.args], {
        stdio: spec.ipc ? ['ignore', fd, fd, 'ipc'] : ['ignore', fd, fd],
        detached: true,
        env: spec.env ?? process.env,
        serialization: 'json',
      });
    } finally {
      closeSync(fd);
    }
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => {
        child.off('error', reject);
        resolve();
      });
      child.once('error', reject);
    });
    // Errors after spawn (e.g. IPC to a dead child) surface as exit; keep them from throwing.
    child.on('error', () => undefined);
    return new ManagedChild(child);
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  get exitInfo(): ChildExit | undefined {
    return this.exit;
  }

  onMessage(listener: (message: unknown) => void): void {
    this.child.on('message', listener);
  }

  /** False when the channel is closed (the child is exiting). */
  send(message: ParentMessage): boolean {
    if (!this.child.connected) return false;
    try {
      return this.child.send(message);
    } catch {
      return false;
    }
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) signalTree(this.pid, signal);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  async terminate(graceMs: number): Promise<ChildExit> {
    if (this.exit !== undefined) return this.exit;
    this.signal('SIGTERM');
    return this.waitOrKill(graceMs);
  }

  /** Waits up to `ms` for the process to exit by itself, then SIGKILLs it. */
  async waitOrKill(ms: number): Promise<ChildExit> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), ms);
    });
    const first = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    if (first !== 'timeout') return first;
    this.signal('SIGKILL');
    return this.exited;
  }
}
