import { readFile, rm } from 'node:fs/promises';
import { renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { entryFile } from './home.js';
import { stateFileSchema, type StateFile } from './job-record.js';
import { isAlive, isOurProcess, signalTree } from './process-identity.js';

/** How a supervisor (background or `start --foreground`) is recognised from its pid file. */
export const identitySchema = z.object({
  pid: z.number().int(),
  startTime: z.string().nullable(),
  marker: z.string(),
});
export type Identity = z.infer<typeof identitySchema>;

/** Written to a temporary file and renamed, so a reader never sees half a file. */
export function writeState(file: string, state: StateFile): void {
  writeAtomically(file, `${JSON.stringify(state, null, 2)}\n`);
}

function writeAtomically(file: string, text: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode: 0o600 });
  renameSync(temporary, file);
}

export async function readState(file: string): Promise<StateFile | undefined> {
  return readJson(file, stateFileSchema);
}

export function writeIdentity(file: string, identity: Identity): void {
  writeAtomically(file, `${JSON.stringify(identity)}\n`);
}

export async function readIdentity(file: string): Promise<Identity | undefined> {
  return readJson(file, identitySchema);
}

async function readJson<T>(file: string, schema: z.ZodType<T>): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Stops every process recorded in `state` that is verifiably still ours (pid, start time and
 * command line all match), except `exceptPid`. Returns a description of each one stopped.
 */
export async function reapOrphans(state: StateFile, exceptPid?: number): Promise<string[]> {
  const targets: { pid: number; what: string }[] = [];
  for (const job of state.jobs) {
    for (const proc of job.processes) {
      if (proc.pid === null || proc.pid === exceptPid) continue;
      const marker = entryFile(proc.role === 'worker' ? 'worker' : 'frontend');
      if (isOurProcess({ pid: proc.pid, startTime: proc.startTime, marker })) {
        targets.push({ pid: proc.pid, what: `${job.name} ${proc.role} ${proc.slot} (pid ${proc.pid})` });
      }
    }
  }
  for (const redis of state.redis) {
    if (redis.pid === null || redis.pid === exceptPid) continue;
    if (isOurProcess({ pid: redis.pid, startTime: redis.startTime, marker: 'redis-server' })) {
      targets.push({ pid: redis.pid, what: `redis-server on port ${redis.port} (pid ${redis.pid})` });
    }
  }
  await Promise.all(targets.map((target) => killAndWait(target.pid, 3000)));
  return targets.map((target) => target.what);
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the pid is gone. */
export async function killAndWait(pid: number, graceMs: number): Promise<void> {
  signalTree(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  signalTree(pid, 'SIGKILL');
  const hardDeadline = Date.now() + 5000;
  while (isAlive(pid) && Date.now() < hardDeadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

export async function removeFiles(...files: string[]): Promise<void> {
  await Promise.all(files.map((file) => rm(file, { force: true })));
}
