import { spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import { join } from 'node:path';
import { CsError } from '../errors/registry.js';
import { sendRequest, type SendOptions } from '../supervisor/control-client.js';
import {
  assertSocketPathFits,
  entryFile,
  homePaths,
  openPrivateLog,
  prepareHome,
  resolveHome,
  type HomePaths,
} from '../supervisor/home.js';
import { tailLines } from '../supervisor/log-tail.js';
import type { ControlRequest } from '../supervisor/protocol.js';

export function currentHome(): HomePaths {
  return homePaths(resolveHome());
}

export async function supervisorAnswers(paths: HomePaths): Promise<boolean> {
  try {
    await sendRequest(paths.socket, { type: 'ping' }, { timeoutMs: 3000 });
    return true;
  } catch {
    return false;
  }
}

const SUPERVISOR_START_MS = 15_000;

/** Starts the home's supervisor in the background unless one answers already. */
export async function ensureSupervisor(paths: HomePaths): Promise<void> {
  if (await supervisorAnswers(paths)) return;
  assertSocketPathFits(paths);
  prepareHome(paths);
  // Its own log is JSON lines; a crash it could not log (a stack trace on stderr) lands in the same file.
  const log = openPrivateLog(join(paths.logsDir, 'supervisor.log'));
  let child;
  try {
    child = spawn(process.execPath, [entryFile('supervisor'), '--home', paths.home], {
      detached: true,
      stdio: ['ignore', log, log],
      cwd: paths.home,
      env: process.env,
    });
  } finally {
    closeSync(log);
  }
  let exitCode: number | null = null;
  child.once('exit', (code) => {
    exitCode = code ?? 1;
  });
  child.unref();
  const deadline = Date.now() + SUPERVISOR_START_MS;
  while (Date.now() < deadline) {
    if (await supervisorAnswers(paths)) return;
    // Exit 0 means another supervisor won the race for this home; keep pinging it.
    if (exitCode !== null && exitCode !== 0) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const tail = await tailLines(join(paths.logsDir, 'supervisor.log'), 3);
  throw new CsError(
    'CS_ERR_SUPERVISOR_UNAVAILABLE',
    `the supervisor for ${paths.home} did not start${tail.length > 0 ? `: ${tail.join(' | ')}` : ''}; see ${join(paths.logsDir, 'supervisor.log')}, or run cluster-serving shutdown to clear a stuck one`,
  );
}

export function request(
  paths: HomePaths,
  message: ControlRequest,
  options: SendOptions = {},
): Promise<unknown> {
  return sendRequest(paths.socket, message, options);
}
