import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../../src/logging/logger.js';
import { sendRequest } from '../../../src/supervisor/control-client.js';
import { homePaths, type HomePaths } from '../../../src/supervisor/home.js';
import { hostSupervisor, type SupervisorHost } from '../../../src/supervisor/host.js';
import { isAlive } from '../../../src/supervisor/process-identity.js';
import type { ControlRequest, Progress } from '../../../src/supervisor/protocol.js';
import { writeModel } from '../../fixtures/onnx-models.js';
import { freePort } from '../../helpers/redis-server.js';

export const FAKE_WORKER = fileURLToPath(new URL('./fixtures/fake-worker.mjs', import.meta.url));

/** A supervisor hosted in the test process, with stand-in workers and a fast restart policy. */
export interface SupervisorFixture {
  readonly dir: string;
  readonly paths: HomePaths;
  readonly host: SupervisorHost;
  readonly redisPort: number;
  /** Writes `<dir>/<jobName>.yaml` (defaults overridden by `overrides`); returns its path. */
  writeConfig(jobName: string, overrides?: Record<string, string | number>): Promise<string>;
  send(request: ControlRequest, progress?: Progress[]): Promise<unknown>;
  close(): Promise<void>;
}

export async function startSupervisorFixture(
  options: { noReadyFailMs?: number } = {},
): Promise<SupervisorFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'cs-sup-'));
  const paths = homePaths(join(dir, 'home'));
  const redisPort = await freePort();
  const model = await writeModel(join(dir, 'models'), 'mlp');
  const host = await hostSupervisor({
    paths,
    logger: silentLogger(),
    marker: 'vitest',
    onShutdownRequested: () => undefined,
    restartPolicy: { baseMs: 20, maxMs: 200, jitter: 0.1, windowMs: 60_000 },
    redisRestartPolicy: { baseMs: 20, maxMs: 100, jitter: 0.1, windowMs: 60_000 },
    jobHealth: { noReadyFailMs: options.noReadyFailMs ?? 60_000, sameFailureLimit: 3 },
    entries: { worker: FAKE_WORKER },
  });
  if (host === undefined) throw new Error('another supervisor owns the fresh test home');
  return {
    dir,
    paths,
    host,
    redisPort,
    async writeConfig(jobName, overrides = {}): Promise<string> {
      const path = join(dir, `${jobName}.yaml`);
      const keys: Record<string, string | number> = {
        modelPath: model,
        jobName,
        modelParallelism: 2,
        redisUrl: `localhost:${redisPort}`,
        redisMaxmemory: '64mb',
        ...overrides,
      };
      await writeFile(
        path,
        Object.entries(keys)
          .map(([key, value]) => `${key}: ${String(value)}\n`)
          .join(''),
      );
      return path;
    },
    send(request, progress = []): Promise<unknown> {
      return sendRequest(paths.socket, request, { onProgress: (p) => progress.push(p) });
    },
    async close(): Promise<void> {
      await host.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function deadPids(pids: readonly number[]): boolean {
  return pids.every((pid) => !isAlive(pid));
}
