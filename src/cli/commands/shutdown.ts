import { rm } from 'node:fs/promises';
import { redisDataDir, redisSecretFile } from '../../supervisor/home.js';
import { isOurProcess } from '../../supervisor/process-identity.js';
import { shutdownResultSchema } from '../../supervisor/protocol.js';
import {
  killAndWait,
  readIdentity,
  readState,
  reapOrphans,
  removeFiles,
} from '../../supervisor/state-store.js';
import { currentHome, request, supervisorAnswers } from '../supervisor-link.js';

const SUPERVISOR_EXIT_MS = 15_000;

/**
 * Stops everything of this home. With a live supervisor it asks it; when the supervisor is
 * gone (kill -9) it stops what state.json records, each process verified as ours first.
 * Returns only once no process we started is alive. Idempotent.
 */
export async function runShutdown(options: { keepData: boolean }): Promise<number> {
  const paths = currentHome();
  const identity = await readIdentity(paths.pidFile);
  if (await supervisorAnswers(paths)) {
    const result = shutdownResultSchema.parse(
      await request(paths, { type: 'shutdown', keepData: options.keepData }),
    );
    if (identity !== undefined) await waitGone(identity);
    // A supervisor that answered has already stopped its children; this catches any it lost track of.
    const state = await readState(paths.stateFile);
    if (state !== undefined) await reapOrphans(state);
    await removeFiles(paths.pidFile, paths.stateFile, paths.socket);
    const jobs = result.jobs.length === 0 ? 'no job was running' : `stopped ${result.jobs.join(', ')}`;
    const data =
      result.keptData.length > 0
        ? `its data is kept in ${result.keptData.join(', ')}`
        : options.keepData
          ? 'it kept no data: redisPersistence is false'
          : 'its data is gone';
    const redis = result.redis.length === 0 ? '' : `; stopped Redis at ${result.redis.join(', ')} (${data})`;
    process.stdout.write(`${jobs}${redis}; supervisor stopped\n`);
    return 0;
  }

  const stale: string[] = [];
  if (identity !== undefined && isOurProcess(identity)) {
    // Alive but not answering: hung. It is ours (pid, start time and command line match).
    await killAndWait(identity.pid, 2000);
    stale.push(`unresponsive supervisor (pid ${identity.pid})`);
  }
  const state = await readState(paths.stateFile);
  if (state !== undefined) {
    stale.push(...(await reapOrphans(state)));
    // What the dead supervisor's Redis kept goes as it would have with a live one.
    for (const redis of state.redis) {
      const files = [redisSecretFile(paths.home, redis.port)];
      if (!options.keepData) files.push(redisDataDir(paths.home, redis.port));
      await Promise.all(files.map((file) => rm(file, { recursive: true, force: true })));
    }
  }
  await removeFiles(paths.pidFile, paths.stateFile, paths.socket);
  if (stale.length === 0) process.stdout.write(`nothing is running (home ${paths.home})\n`);
  else process.stdout.write(`the supervisor was not running; stopped what it left: ${stale.join(', ')}\n`);
  return 0;
}

async function waitGone(identity: { pid: number; startTime: string | null; marker: string }): Promise<void> {
  const deadline = Date.now() + SUPERVISOR_EXIT_MS;
  while (isOurProcess(identity)) {
    if (Date.now() > deadline) {
      await killAndWait(identity.pid, 1000);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
