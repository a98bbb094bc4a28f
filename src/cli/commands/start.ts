import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { CsError } from '../../errors/registry.js';
import { dashboardAddress } from '../../supervisor/dashboard-address.js';
import { startResultSchema } from '../../supervisor/protocol.js';
import { createProgress } from '../progress.js';
import { renderStarted } from '../render.js';
import { currentHome, ensureSupervisor, request } from '../supervisor-link.js';

export interface StartOptions {
  readonly configPath: string;
  readonly foreground: boolean;
  readonly timeoutMs: number;
  readonly json: boolean;
}

export async function runStart(options: StartOptions): Promise<number> {
  const configPath = resolve(options.configPath);
  if (!existsSync(configPath)) {
    throw new CsError(
      'CS_ERR_CONFIG_NOT_FOUND',
      `no config file at ${configPath}; write one with cluster-serving init, or pass -c <path>`,
    );
  }
  // Validated here first so that config problems are reported (exit 2) before anything starts.
  const { loadConfig } = await import('../../config/load.js');
  const { warnings } = loadConfig(configPath);
  for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
  // The supervisor this may start serves its dashboard there: a bad value is a usage error now.
  dashboardAddress(process.env);

  if (options.foreground) {
    const { runForeground } = await import('./start-foreground.js');
    return runForeground({ configPath, timeoutMs: options.timeoutMs, json: options.json });
  }

  const paths = currentHome();
  await ensureSupervisor(paths);
  const progress = createProgress();
  let result: unknown;
  try {
    result = await request(
      paths,
      { type: 'start', configPath, timeoutMs: options.timeoutMs },
      { onProgress: (step) => progress.step(step) },
    );
  } catch (error) {
    progress.done(false);
    throw error;
  }
  progress.done(true);
  const { job, dashboard } = startResultSchema.parse(result);
  process.stdout.write(options.json ? `${JSON.stringify(job)}\n` : renderStarted(job, dashboard));
  return 0;
}
