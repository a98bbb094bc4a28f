import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait-for.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = join(ROOT, 'bin', 'cluster-serving.js');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Kill the command (and fail) after this long; default 180 s. */
  readonly timeoutMs?: number;
  /** Another binary of bin/, e.g. `cluster-serving-start.js`. */
  readonly bin?: string;
}

/**
 * Runs the real `bin/cluster-serving.js` as a subprocess with its own CLUSTER_SERVING_HOME
 * under a temporary directory. `cleanup()` always runs `shutdown`, kills whatever it
 * spawned or finds running with the home's path on its command line, and removes the
 * directory. `assertNothingLeft` checks pids and ports, not output.
 */
export class CliHarness {
  private readonly children = new Set<ChildProcess>();

  private constructor(
    readonly root: string,
    readonly home: string,
    /** An argv prefix every command runs under, e.g. `ip netns exec <ns>` for a test host. */
    private readonly wrap: readonly string[] = [],
  ) {}

  static async create(options: { wrap?: readonly string[] } = {}): Promise<CliHarness> {
    if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
      throw new Error('dist/ is missing: run `npm run build` before the end-to-end tests');
    }
    const root = await mkdtemp(join(tmpdir(), 'cs-e2e-'));
    const home = join(root, 'home');
    await mkdir(home, { recursive: true });
    return new CliHarness(root, home, options.wrap);
  }

  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    // Tests run side by side: no dashboard on the shared default port unless a test asks for one.
    return {
      ...process.env,
      CLUSTER_SERVING_HOME: this.home,
      CLUSTER_SERVING_LOG_LEVEL: 'info',
      CLUSTER_SERVING_DASHBOARD: 'off',
      ...extra,
    };
  }

  /** Runs a command to completion. */
  run(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
    const child = this.spawn(args, options);
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timeoutMs = options.timeoutMs ?? 180_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(
          new Error(`cluster-serving ${args.join(' ')} did not finish in ${timeoutMs} ms; stderr: ${stderr}`),
        );
      }, timeoutMs);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        resolve({ code: code ?? (signal === null ? -1 : 128), stdout, stderr });
      });
    });
  }

  /** Starts a long-running command (e.g. `start --foreground`); killed by cleanup() if still running. */
  spawn(args: readonly string[], options: RunOptions = {}): ChildProcess {
    const bin = options.bin === undefined ? BIN : join(ROOT, 'bin', options.bin);
    const [command, ...prefix] = [...this.wrap, process.execPath];
    const child = spawn(command ?? process.execPath, [...prefix, bin, ...args], {
      cwd: options.cwd ?? this.root,
      env: this.env(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** A project directory with a model and a config.yaml; returns the config path. */
  async project(
    name: string,
    config: Record<string, string | number | boolean>,
    modelFile?: string,
    extraYaml = '',
  ): Promise<string> {
    const dir = join(this.root, name);
    await mkdir(dir, { recursive: true });
    const lines = Object.entries({
      ...(modelFile === undefined ? {} : { modelPath: modelFile }),
      ...config,
    }).map(([key, value]) => `${key}: ${String(value)}`);
    const path = join(dir, 'config.yaml');
    await writeFile(path, `${lines.join('\n')}\n${extraYaml}`);
    return path;
  }

  /** Pids of live processes whose command line names this home (supervisor, workers, frontends). */
  processesOfHome(): number[] {
    const pids: number[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const commandLine = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
        if (commandLine.includes(this.home)) pids.push(Number(entry));
      } catch {
        // gone meanwhile
      }
    }
    return pids.filter(isRunning);
  }

  /** Pids recorded in the home's state.json and pid file (including managed redis-server). */
  async recordedPids(): Promise<number[]> {
    const pids = new Set<number>();
    try {
      const state = JSON.parse(await readFile(join(this.home, 'state.json'), 'utf8')) as {
        jobs: { processes: { pid: number | null }[] }[];
        redis: { pid: number | null }[];
      };
      for (const job of state.jobs) for (const p of job.processes) if (p.pid !== null) pids.add(p.pid);
      for (const r of state.redis) if (r.pid !== null) pids.add(r.pid);
    } catch {
      // no state
    }
    try {
      const identity = JSON.parse(await readFile(join(this.home, 'supervisor.pid'), 'utf8')) as {
        pid: number;
      };
      pids.add(identity.pid);
    } catch {
      // no pid file
    }
    return [...pids];
  }

  /** Fails unless every pid is gone and every port refuses connections. */
  async assertNothingLeft(pids: readonly number[], ports: readonly number[]): Promise<void> {
    await waitFor(() => pids.every((pid) => !isRunning(pid)), {
      what: `processes ${pids.join(', ')} to be gone`,
      timeoutMs: 15_000,
    });
    for (const port of ports) {
      if (await portAnswers(port)) throw new Error(`port ${port} is still held`);
    }
    const left = this.processesOfHome();
    if (left.length > 0) throw new Error(`processes of ${this.home} still running: ${left.join(', ')}`);
  }

  async cleanup(): Promise<void> {
    for (const child of this.children) child.kill('SIGKILL');
    const recorded = await this.recordedPids();
    await this.run(['shutdown'], { timeoutMs: 60_000 }).catch(() => undefined);
    for (const pid of [...recorded, ...this.processesOfHome()]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await rm(this.root, { recursive: true, force: true });
  }
}

export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) !== 'Z';
  } catch {
    return false;
  }
}

export function portAnswers(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Waits for a spawned command to exit; resolves to its exit code (128 + n for a signal). */
export function exitOf(child: ChildProcess): Promise<number> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? (signal === null ? -1 : 128))),
  );
}
