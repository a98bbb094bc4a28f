import { spawn, type ChildProcess } from 'node:child_process';
import type { TestNetwork } from './netns.js';

/** Processes a test starts inside test hosts; `killAll()` SIGKILLs whatever still runs. */
export class HostProcesses {
  private readonly children = new Set<ChildProcess>();

  constructor(private readonly network: TestNetwork) {}

  start(host: string, command: string, args: readonly string[]): ChildProcess {
    const [wrapper = 'ip', ...prefix] = this.network.wrap(host);
    const child = spawn(wrapper, [...prefix, command, ...args], { stdio: 'ignore' });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  async killAll(): Promise<void> {
    const exits = [...this.children].map(
      (child) =>
        new Promise<void>((resolve) =>
          child.exitCode !== null ? resolve() : child.once('exit', () => resolve()),
        ),
    );
    for (const child of this.children) child.kill('SIGKILL');
    await Promise.all(exits);
  }
}
